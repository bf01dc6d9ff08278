/**
 * The `cluster-members` module: this gateway's membership heartbeat and its view of the
 * live gateways (cluster-members.ts), shown as `health.cluster.members`.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { NODES_MODULE } from "../nodes/nodes-module.js";
import type { NodeService } from "../nodes/node-service.js";
import { requireApi, type ClusterHostLinks } from "./cluster-host-links.js";
import { ClusterMembers } from "./cluster-members.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";

export const CLUSTER_MEMBERS_MODULE = "cluster-members";

export function clusterMembersModule(links: ClusterHostLinks): GatewayModuleDef {
  return {
    name: CLUSTER_MEMBERS_MODULE,
    dependsOn: [CLUSTER_MODULE, NODES_MODULE],
    register(r) {
      const cluster = requireApi<ClusterApi>(r, CLUSTER_MODULE, CLUSTER_MEMBERS_MODULE);
      const nodes = requireApi<NodeService>(r, NODES_MODULE, CLUSTER_MEMBERS_MODULE);
      const members = new ClusterMembers({
        connection: cluster.connection,
        bucket: cluster.names.buckets.members,
        gatewayId: cluster.options.gatewayId,
        heartbeatMs: cluster.options.heartbeatMs,
        log: r.core.log,
        listening: links.listening,
        nodeCount: () => nodes.registry.size,
      });
      cluster.addHealthField("members", () => members.list());
      return { api: members, start: () => members.start(), stop: () => members.close() };
    },
  };
}
