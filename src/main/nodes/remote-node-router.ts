/**
 * The seam through which the nodes subsystem reaches nodes connected to other gateways of
 * a cluster (docs/cluster.md, "Node routing"). A single gateway has none: `NodeService.remote`
 * stays null and every node method behaves as the protocol reference describes. When
 * `gateway.cluster` is enabled the cluster-nodes module installs one.
 *
 * Local sessions always win: the router is asked only about node ids this gateway does
 * not have connected.
 */
import type { NodeInvokeParams } from "../../shared/protocol/generated/types.js";
import type { NodeInvokeResponse } from "./node-invoke-response.js";
import type { LiveNodeInfo } from "./node-session.js";

/** A node connected to another gateway, as the node directory knows it. */
export interface RemoteNode {
  readonly nodeId: string;
  /** The gateway the node is connected to. */
  readonly gatewayId: string;
  /** The live half of its `NodeInfo`, as its gateway recorded it at connect. */
  readonly info: LiveNodeInfo;
  /** Paired as a node on its own gateway (its pairing store may not be this one's). */
  readonly paired: boolean;
}

/** Routes node lookups and invokes to the gateway a node is connected to. */
export interface RemoteNodeRouter {
  /** Live nodes of other gateways (ids may repeat local ones; callers skip those). */
  nodes(): Iterable<RemoteNode>;
  /** The remote node with this id, if another live gateway has it connected. */
  lookup(nodeId: string): RemoteNode | undefined;
  /**
   * Runs `node.invoke` on the node's gateway and returns its answer, or throws the same
   * GatewayError the owner threw. Throws `GW_ERR_CLUSTER_UNAVAILABLE` (retryable) while the
   * broker is down and `GW_ERR_CLUSTER_GATEWAY_UNREACHABLE` when the owner does not answer.
   */
  invoke(node: RemoteNode, params: NodeInvokeParams): Promise<NodeInvokeResponse>;
  /**
   * Whether lookups can be trusted now. While false (broker down) an id that is not local
   * may still be connected elsewhere, so `node.invoke` answers UNAVAILABLE (retryable)
   * instead of "node not connected".
   */
  available(): boolean;
}
