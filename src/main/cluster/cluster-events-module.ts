/** The `cluster-events` module (cluster only): operator events relayed across gateways (cluster-events.ts). */
import { GatewayError } from "../../shared/errors.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { ClusterEvents } from "./cluster-events.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";

export const CLUSTER_EVENTS_MODULE = "cluster-events";

export function clusterEventsModule(): GatewayModuleDef {
  return {
    name: CLUSTER_EVENTS_MODULE,
    dependsOn: [CLUSTER_MODULE],
    register(r) {
      const cluster = r.api<ClusterApi>(CLUSTER_MODULE);
      if (!cluster) throw new GatewayError("GW_ERR_MODULE_GRAPH", "gateway module \"cluster-events\" needs the cluster module", { module: "cluster-events" });
      const events = new ClusterEvents({
        gatewayId: cluster.options.gatewayId,
        prefix: cluster.names.events,
        connection: cluster.connection,
        bus: r.core.bus,
        log: r.core.log,
      });
      return { api: events, start: () => events.start(), stop: () => events.stop() };
    },
  };
}
