/**
 * The `cluster-nodes` module: node routing across the cluster. It keeps this gateway's
 * nodes in the node directory (node-directory.ts), serves `node.invoke` for them to the
 * other gateways (RPC op `node.invoke`), and installs the router through which the nodes
 * module lists, describes and invokes nodes connected elsewhere (`NodeService.remote`).
 */
import type { NodeInvokeParams } from "../../shared/protocol/generated/types.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { isNodeDevice } from "../nodes/node-info.js";
import { invokeNode } from "../nodes/node-invoke.js";
import { NODES_MODULE } from "../nodes/nodes-module.js";
import type { NodeService } from "../nodes/node-service.js";
import { requireApi } from "./cluster-host-links.js";
import { CLUSTER_MEMBERS_MODULE } from "./cluster-members-module.js";
import type { ClusterMembers } from "./cluster-members.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { ClusterNodeRouter, NODE_INVOKE_OP } from "./cluster-node-router.js";
import { CLUSTER_RPC_MODULE } from "./cluster-rpc-module.js";
import type { GatewayRpc } from "./gateway-rpc.js";
import { NodeDirectory } from "./node-directory.js";

export const CLUSTER_NODES_MODULE = "cluster-nodes";

/** What the module exposes (tests, benches). */
export interface ClusterNodesApi {
  readonly directory: NodeDirectory;
  readonly router: ClusterNodeRouter;
}

export function clusterNodesModule(): GatewayModuleDef {
  return {
    name: CLUSTER_NODES_MODULE,
    dependsOn: [CLUSTER_MODULE, CLUSTER_MEMBERS_MODULE, CLUSTER_RPC_MODULE, NODES_MODULE],
    register(r) {
      const by = CLUSTER_NODES_MODULE;
      const cluster = requireApi<ClusterApi>(r, CLUSTER_MODULE, by);
      const members = requireApi<ClusterMembers>(r, CLUSTER_MEMBERS_MODULE, by);
      const rpc = requireApi<GatewayRpc>(r, CLUSTER_RPC_MODULE, by);
      const nodes = requireApi<NodeService>(r, NODES_MODULE, by);
      const directory = new NodeDirectory({
        connection: cluster.connection,
        bucket: cluster.names.buckets.nodes,
        gatewayId: cluster.options.gatewayId,
        members,
        registry: nodes.registry,
        isPaired: (nodeId) => {
          const d = r.core.devices.getPaired(nodeId);
          return d !== undefined && isNodeDevice(d);
        },
        log: r.core.log,
        snapshotTimeoutMs: cluster.options.requestTimeoutMs,
      });
      const router = new ClusterNodeRouter(directory, rpc, cluster.connection, cluster.options.requestTimeoutMs);
      // The owner runs the forwarded call on its local path only: no second hop.
      rpc.handle(NODE_INVOKE_OP, (params) => invokeNode(nodes, params as NodeInvokeParams, true));
      members.onChange((c) => {
        if (c.type === "left") rpc.gatewayLeft(c.member.id);
      });
      // Runs after the nodes module's own listener (dependency order): the registry is current.
      r.listen({
        opened: (conn) => {
          const session = conn.nodeId === undefined ? undefined : nodes.registry.get(conn.nodeId);
          if (session?.conn === conn) directory.publish(session);
        },
        closed: (conn) => {
          if (conn.nodeId !== undefined && !nodes.registry.get(conn.nodeId)) directory.unpublish(conn.nodeId);
        },
      });
      cluster.addHealthField("nodeDirectory", () => directory.stats());
      const api: ClusterNodesApi = { directory, router };
      return {
        api,
        start: () => {
          directory.start();
          nodes.remote = router;
        },
        stop: () => {
          nodes.remote = null;
          directory.close();
        },
      };
    },
  };
}
