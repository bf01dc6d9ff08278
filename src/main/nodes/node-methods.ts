/**
 * `node.list`, `node.describe`, `node.rename`, `node.invoke` (operators) and
 * `node.invoke.result`, `node.event` (node role only) — §3.11, Appendix B.3.
 */
import { GatewayError } from "../../shared/errors.js";
import { check } from "../../shared/protocol/validate.js";
import type { MethodTable } from "../router.js";
import type { Connection } from "../socket/connection.js";
import { describeNode, listNodes } from "./node-info.js";
import { invokeNode, normalizeInvokeResultParams, toReply } from "./node-invoke.js";
import { invokeNodeOnce } from "./node-invoke-once.js";
import { handleNodeEvent, nodeEventPayloadJson } from "./node-events.js";
import type { NodeService } from "./node-service.js";

function invalid(message: string): GatewayError {
  return new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", message);
}

/** The caller's node id as the reference derives it (`device.id ?? client.id`). */
function callerNodeId(conn: Connection): string | undefined {
  return conn.nodeId ?? conn.deviceId ?? conn.params?.client.id;
}

/** Registers the node methods. */
export function registerNodeMethods(table: MethodTable, nodes: NodeService): void {
  table.add("node.list", "NodeListParams", ({ ctx }) => ({ ts: Date.now(), nodes: listNodes(nodes.registry, ctx.devices, nodes.remote) }));

  table.add("node.describe", "NodeDescribeParams", ({ ctx, params }) => {
    const info = describeNode(nodes.registry, ctx.devices, params.nodeId, nodes.remote);
    return { ts: Date.now(), ...info };
  });

  table.add("node.rename", "NodeRenameParams", async ({ params }) => {
    const displayName = params.displayName.trim();
    if (!displayName) throw invalid("displayName required");
    const node = nodes.pairing.rename(params.nodeId, displayName);
    if (!node) throw new GatewayError("GW_ERR_NODE_UNKNOWN", "unknown nodeId", { nodeId: params.nodeId });
    await nodes.pairing.flush();
    return { nodeId: node.nodeId, displayName: node.displayName };
  });

  table.add("node.invoke", "NodeInvokeParams", ({ params }) => {
    const share = nodes.shared.current;
    return share === undefined ? invokeNode(nodes, params) : invokeNodeOnce(nodes, share, params);
  });

  // Validated by hand: the reference normalises (null payloadJSON/error) before validating.
  table.add("node.invoke.result", undefined, ({ ctx, conn, params }) => {
    const r = check("NodeInvokeResultParams", normalizeInvokeResultParams(params));
    if (!r.ok) throw invalid(`invalid node.invoke.result params: ${r.details}`);
    const p = r.value;
    const caller = callerNodeId(conn);
    if (caller !== undefined && caller !== p.nodeId) throw new GatewayError("GW_ERR_NODE_ID_MISMATCH", "nodeId mismatch", { nodeId: p.nodeId });
    if (!nodes.invokes.complete(p.id, p.nodeId, toReply(p))) {
      ctx.log.debug({ id: p.id, nodeId: p.nodeId }, "late node invoke result ignored");
      return { ok: true, ignored: true };
    }
    return { ok: true };
  });

  table.add("node.event", "NodeEventParams", ({ ctx, conn, params }) => {
    const session = nodes.registry.sessionOf(conn);
    if (session) handleNodeEvent(nodes, session, params.event, nodeEventPayloadJson(params));
    return { ok: true };
  });
}
