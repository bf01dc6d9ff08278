/**
 * The `node.invoke` flow of §3.11 (steps 1–6) and Appendix B.3, with the reference's
 * messages and details, and the pre-normalisation of `node.invoke.result`.
 */
import { GatewayError } from "../../shared/errors.js";
import type { NodeInvokeParams } from "../../shared/protocol/generated/types.js";
import { commandAllowlist, refuseCommand } from "./node-command-policy.js";
import type { NodeService } from "./node-service.js";
import type { NodeInvokeReply } from "./pending-invokes.js";

/** Appendix C: node.invoke default timeout. */
export const NODE_INVOKE_DEFAULT_TIMEOUT_MS = 30_000;

export type { NodeInvokeResponse } from "./node-invoke-response.js";
import type { NodeInvokeResponse } from "./node-invoke-response.js";

/** `payloadJSON` parsed; blank → undefined; unparseable → `{payloadJSON: raw}` (reference `safeParseJson`). */
export function parsePayloadJson(raw: string): unknown {
  const t = raw.trim();
  if (!t) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return { payloadJSON: raw };
  }
}

/**
 * Runs one invoke: checks, unicast `node.invoke.request`, wait, map the outcome. A node
 * that is not connected here but to another cluster gateway is invoked there
 * (`nodes.remote`); `localOnly` is how that gateway runs the forwarded call, so a stale
 * directory entry can never bounce an invoke between gateways.
 */
export async function invokeNode(nodes: NodeService, p: NodeInvokeParams, localOnly = false): Promise<NodeInvokeResponse> {
  const nodeId = p.nodeId.trim();
  const command = p.command.trim();
  if (!nodeId || !command) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "nodeId and command required");
  const session = nodes.registry.get(nodeId);
  if (!session) {
    const remote = localOnly ? null : nodes.remote;
    if (remote) {
      if (!remote.available()) throw new GatewayError("GW_ERR_CLUSTER_UNAVAILABLE", "cluster broker unavailable: the node may be connected to another gateway; retry");
      const node = remote.lookup(nodeId);
      if (node) return remote.invoke(node, { ...p, nodeId, command });
    }
    throw new GatewayError("GW_ERR_NODE_NOT_CONNECTED", "node not connected", { code: "NOT_CONNECTED" });
  }
  const reason = refuseCommand(command, session.commands, commandAllowlist(session.platformId, nodes.policy));
  if (reason) throw new GatewayError("GW_ERR_NODE_COMMAND_NOT_ALLOWED", "node command not allowed", { reason, command });

  const id = nodes.invokes.newId();
  const request = {
    id,
    nodeId,
    command,
    paramsJSON: p.params === undefined ? null : JSON.stringify(p.params),
    timeoutMs: p.timeoutMs,
    idempotencyKey: p.idempotencyKey,
  };
  if (!nodes.bus.unicast(session.conn, "node.invoke.request", request)) {
    throw new GatewayError("GW_ERR_NODE_INVOKE_SEND_FAILED", "failed to send invoke to node");
  }
  const outcome = await nodes.invokes.wait(id, session, command, p.timeoutMs ?? NODE_INVOKE_DEFAULT_TIMEOUT_MS);
  switch (outcome.kind) {
    case "timeout":
      throw new GatewayError("GW_ERR_NODE_INVOKE_TIMEOUT", "node invoke timed out", {
        nodeError: { code: "TIMEOUT", message: "node invoke timed out" },
      });
    case "disconnected":
      // The reference formats the thrown Error with its name.
      throw new GatewayError("GW_ERR_NODE_DISCONNECTED", `Error: node disconnected (${command})`);
    case "reply": {
      const r = outcome.reply;
      if (!r.ok) {
        const message = typeof r.error?.message === "string" ? r.error.message : "node invoke failed";
        throw new GatewayError("GW_ERR_NODE_INVOKE_FAILED", message, { nodeError: r.error ?? null });
      }
      const payload = r.payloadJSON ? parsePayloadJson(r.payloadJSON) : r.payload;
      return { ok: true, nodeId, command, payload, payloadJSON: r.payloadJSON ?? null };
    }
  }
}

/**
 * `node.invoke.result` pre-normalisation (§3.11): `payloadJSON: null` dropped, a
 * non-string `payloadJSON` moved to `payload` (when that is unset), `error: null` dropped.
 */
export function normalizeInvokeResultParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  if (out.payloadJSON === null) {
    delete out.payloadJSON;
  } else if (out.payloadJSON !== undefined && typeof out.payloadJSON !== "string") {
    if (out.payload === undefined) out.payload = out.payloadJSON;
    delete out.payloadJSON;
  }
  if (out.error === null) delete out.error;
  return out;
}

/** The reply record handed to the waiting invoke. */
export function toReply(p: { ok: boolean; payload?: unknown; payloadJSON?: string; error?: { code?: string; message?: string } }): NodeInvokeReply {
  const reply: NodeInvokeReply = { ok: p.ok, payloadJSON: p.payloadJSON ?? null, error: p.error ?? null };
  if (p.payload !== undefined) reply.payload = p.payload;
  return reply;
}
