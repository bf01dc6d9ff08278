/**
 * The `cluster-rpc` module: this gateway's request/reply inbox on the broker
 * (gateway-rpc.ts). Other cluster modules register their operations on its api
 * (`GatewayRpc.handle`) and call other gateways with `GatewayRpc.request`.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { requireApi } from "./cluster-host-links.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { GatewayRpc } from "./gateway-rpc.js";

export const CLUSTER_RPC_MODULE = "cluster-rpc";

export function clusterRpcModule(): GatewayModuleDef {
  return {
    name: CLUSTER_RPC_MODULE,
    dependsOn: [CLUSTER_MODULE],
    register(r) {
      const cluster = requireApi<ClusterApi>(r, CLUSTER_MODULE, CLUSTER_RPC_MODULE);
      const rpc = new GatewayRpc({ connection: cluster.connection, subjectOf: (id) => cluster.names.gatewayRpc(id), gatewayId: cluster.options.gatewayId, log: r.core.log });
      return { api: rpc, start: () => rpc.start(), stop: () => rpc.close() };
    },
  };
}
