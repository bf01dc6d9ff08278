/**
 * The nodes subsystem's `RemoteNodeRouter` in a cluster: lookups from the node directory's
 * in-memory mirror, invokes as a gateway RPC (`node.invoke`) to the node's gateway, which
 * runs its normal local invoke path (command policy, `node.invoke.request`, pending
 * invokes, timeout) and answers with its result or its error, rethrown here unchanged.
 *
 * The RPC waits for the node's own timeout plus `requestTimeoutMs` of grace for the
 * broker hops, so the node's timeout (`node invoke timed out`) is what callers see, as
 * with a local node.
 */
import type { NodeInvokeParams } from "../../shared/protocol/generated/types.js";
import { NODE_INVOKE_DEFAULT_TIMEOUT_MS, type NodeInvokeResponse } from "../nodes/node-invoke.js";
import type { RemoteNode, RemoteNodeRouter } from "../nodes/remote-node-router.js";
import type { ClusterConnection } from "./cluster-connection.js";
import type { GatewayRpc } from "./gateway-rpc.js";
import type { NodeDirectory } from "./node-directory.js";

/** The RPC op a gateway serves for nodes connected to it. */
export const NODE_INVOKE_OP = "node.invoke";

export class ClusterNodeRouter implements RemoteNodeRouter {
  constructor(
    private readonly directory: NodeDirectory,
    private readonly rpc: GatewayRpc,
    private readonly connection: ClusterConnection,
    /** Grace on top of the invoke's timeout for the broker round trip (ms). */
    private readonly requestTimeoutMs: number,
  ) {}

  nodes(): Iterable<RemoteNode> {
    return this.directory.remoteNodes();
  }

  lookup(nodeId: string): RemoteNode | undefined {
    return this.directory.lookup(nodeId);
  }

  available(): boolean {
    return this.connection.available();
  }

  invoke(node: RemoteNode, params: NodeInvokeParams): Promise<NodeInvokeResponse> {
    const timeoutMs = (params.timeoutMs ?? NODE_INVOKE_DEFAULT_TIMEOUT_MS) + this.requestTimeoutMs;
    return this.rpc.request<NodeInvokeResponse>(node.gatewayId, NODE_INVOKE_OP, params, timeoutMs);
  }
}
