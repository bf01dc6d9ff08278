/**
 * The `cluster-presence` module (cluster only): merged presence across gateways
 * (cluster-presence.ts) and the `clusterPresence` health section — the gateways this one
 * hears from, which `clawdbot health` and `gateway status` show as the cluster's members.
 */
import { presenceChanged } from "../gateway-context.js";
import { GatewayError } from "../../shared/errors.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { ClusterPresence } from "./cluster-presence.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import type { PeerSummary } from "./presence-table.js";

export const CLUSTER_PRESENCE_MODULE = "cluster-presence";

/** The `clusterPresence` health section. */
export interface ClusterPresenceHealth {
  gatewayId: string;
  /** Peers heard within the silence bound (this gateway excluded). */
  peers: PeerSummary[];
  /** Bound (ms) after which a silent gateway's entries leave the view. */
  silenceMs: number;
}

export function clusterPresenceModule(): GatewayModuleDef {
  return {
    name: CLUSTER_PRESENCE_MODULE,
    dependsOn: [CLUSTER_MODULE],
    register(r) {
      const cluster = r.api<ClusterApi>(CLUSTER_MODULE);
      if (!cluster) throw new GatewayError("GW_ERR_MODULE_GRAPH", "gateway module \"cluster-presence\" needs the cluster module", { module: "cluster-presence" });
      const ctx = r.core;
      const presence = new ClusterPresence({
        gatewayId: cluster.options.gatewayId,
        subject: cluster.names.presence,
        heartbeatMs: cluster.options.heartbeatMs,
        connection: cluster.connection,
        store: ctx.presence,
        onRemoteChange: () => presenceChanged(ctx, true),
        log: ctx.log,
      });
      r.healthSection("clusterPresence", (): ClusterPresenceHealth => ({
        gatewayId: cluster.options.gatewayId,
        peers: presence.table.summary(),
        silenceMs: 3 * cluster.options.heartbeatMs,
      }));
      return { api: presence, start: () => presence.start(), stop: () => presence.stop() };
    },
  };
}
