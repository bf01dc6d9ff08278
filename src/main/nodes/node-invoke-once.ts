/**
 * `node.invoke` run at most once per (node, idempotencyKey) across the cluster's gateways
 * (shared-idempotency.ts; none on a single gateway, where the key only travels to the node).
 * The first gateway to claim the key invokes the node; a retry on any gateway waits for that
 * invoke's outcome (up to the call's timeout) and answers with it. Only outcomes the node
 * gave are recorded (its result, or its error); a timeout, a disconnect or a refusal before
 * the node was asked releases the key, so a retry invokes again.
 */
import { GatewayError, type WireError } from "../../shared/errors.js";
import type { NodeInvokeParams } from "../../shared/protocol/generated/types.js";
import type { SharedIdempotency } from "../agents/shared-idempotency.js";
import { NODE_INVOKE_DEFAULT_TIMEOUT_MS, invokeNode, type NodeInvokeResponse } from "./node-invoke.js";
import type { NodeService } from "./node-service.js";

/** Claims before a retry gives up on a key released under it. */
const MAX_CLAIMS = 3;

/** `invokeNode` with the key claimed in `share` first. */
export async function invokeNodeOnce(nodes: NodeService, share: SharedIdempotency, p: NodeInvokeParams): Promise<NodeInvokeResponse> {
  const key = `node:${p.nodeId.trim()}:${p.idempotencyKey}`;
  const timeoutMs = p.timeoutMs ?? NODE_INVOKE_DEFAULT_TIMEOUT_MS;
  for (let attempt = 0; attempt < MAX_CLAIMS; attempt++) {
    const claim = await share.claim(key, undefined);
    if (claim.won) return runClaimed(nodes, share, key, p);
    const final = claim.final ?? (await share.awaitFinal(key, timeoutMs));
    if (final === null) continue;
    if (final === undefined) {
      throw new GatewayError("GW_ERR_NODE_INVOKE_TIMEOUT", "node invoke timed out", { nodeError: { code: "TIMEOUT", message: "node invoke with this idempotencyKey is still running on another gateway" } });
    }
    if (final.ok) return final.payload as NodeInvokeResponse;
    throw GatewayError.fromWire(final.payload as WireError);
  }
  throw new GatewayError("GW_ERR_NODE_INVOKE_FAILED", "node invoke was released repeatedly by other gateways; retry", { nodeError: null });
}

async function runClaimed(nodes: NodeService, share: SharedIdempotency, key: string, p: NodeInvokeParams): Promise<NodeInvokeResponse> {
  try {
    const r = await invokeNode(nodes, p);
    share.settle(key, { ok: true, payload: r });
    return r;
  } catch (err) {
    if (err instanceof GatewayError && err.code === "GW_ERR_NODE_INVOKE_FAILED") share.settle(key, { ok: false, payload: err.toWire() });
    else share.release(key);
    throw err;
  }
}
