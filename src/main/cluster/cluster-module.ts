/**
 * The `cluster` module: loaded only when `gateway.cluster.enabled` (gateway.ts imports it
 * lazily, so a single gateway never loads the NATS client). It owns the broker connection
 * and exposes it to the subsystems that share state through it (node routing, pairing,
 * presence, events, idempotency, channel leases — see docs/cluster.md), plus the `cluster`
 * health section.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { clusterMetrics } from "../metrics/cluster-metrics.js";
import { ClusterConnection, type BrokerStatus } from "./cluster-connection.js";
import type { ClusterOptions } from "./cluster-options.js";
import { clusterNames, type ClusterNames } from "./cluster-subjects.js";

export const CLUSTER_MODULE = "cluster";

/** What the module exposes to other modules (`ModuleHost.api("cluster")`). */
export interface ClusterApi {
  readonly options: ClusterOptions;
  readonly names: ClusterNames;
  readonly connection: ClusterConnection;
  /**
   * Adds a field to the `cluster` health section (`members`, …), read at each health
   * refresh, so it must be cheap and synchronous. Used by the other cluster modules.
   */
  addHealthField(name: string, read: () => unknown): void;
}

/** The `cluster` section of `health` (and of `gateway status`). */
export interface ClusterHealth {
  name: string;
  gatewayId: string;
  broker: BrokerStatus;
  /** Fields added by the other cluster modules (`members`, …). */
  [field: string]: unknown;
}

export function clusterModule(options: ClusterOptions): GatewayModuleDef {
  return {
    name: CLUSTER_MODULE,
    register(r) {
      const connection = new ClusterConnection(options.nats, options.gatewayId, r.core.log);
      const fields = new Map<string, () => unknown>();
      const api: ClusterApi = {
        options,
        names: clusterNames(options.name),
        connection,
        addHealthField: (name, read) => fields.set(name, read),
      };
      r.healthSection("cluster", (): ClusterHealth => {
        const out: ClusterHealth = { name: options.name, gatewayId: options.gatewayId, broker: { ...connection.status } };
        for (const [name, read] of fields) out[name] = read();
        return out;
      });
      clusterMetrics.broker = () => connection.status;
      return {
        api,
        start: () => connection.start(),
        stop: () => {
          clusterMetrics.broker = null;
          return connection.close();
        },
      };
    },
  };
}
