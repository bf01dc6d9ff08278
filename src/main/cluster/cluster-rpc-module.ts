/**
 * The `cluster-rpc` module: this gateway's request/reply inbox on the broker
 * (gateway-rpc.ts). Other cluster modules register their operations on its api
 * (`GatewayRpc.handle`) and call other gateways with `GatewayRpc.request`.
 */
import { GatewayError } from "../../shared/errors.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { ClusterHostLinks } from "./cluster-host-links.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { GatewayRpc } from "./gateway-rpc.js";

export const CLUSTER_RPC_MODULE = "cluster-rpc";

/** Another module's api, or a start-up error naming what is missing. */
export function requireApi<T>(links: ClusterHostLinks, module: string, by: string): T {
  const api = links.api<T>(module);
  if (api === undefined) throw new GatewayError("GW_ERR_MODULE_GRAPH", `gateway module "${by}" needs the api of "${module}", which is not registered`, { module: by, dependsOn: module });
  return api;
}

export function clusterRpcModule(links: ClusterHostLinks): GatewayModuleDef {
  return {
    name: CLUSTER_RPC_MODULE,
    dependsOn: [CLUSTER_MODULE],
    register(r) {
      const cluster = requireApi<ClusterApi>(links, CLUSTER_MODULE, CLUSTER_RPC_MODULE);
      const rpc = new GatewayRpc({ connection: cluster.connection, subjectOf: (id) => cluster.names.gatewayRpc(id), gatewayId: cluster.options.gatewayId, log: r.core.log });
      return { api: rpc, start: () => rpc.start(), stop: () => rpc.close() };
    },
  };
}
