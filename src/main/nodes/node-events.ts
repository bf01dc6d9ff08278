/**
 * `node.event` (§3.11): what a node reports to the gateway.
 *
 *   chat.subscribe / chat.unsubscribe   {sessionKey}  → node chat subscriptions
 *   exec.started / .finished / .denied                → system event for the session
 *                                                       (default `node-<nodeId>`)
 *   voice.transcript / agent.request                  → would start an agent run; until
 *                                                       agent runs exist: UNAVAILABLE
 *   anything else                                     → ignored, `{ok:true}`
 *
 * Like the reference, malformed payloads are ignored silently (the node gets `{ok:true}`).
 */
import { GatewayError } from "../../shared/errors.js";
import type { NodeService } from "./node-service.js";
import type { NodeSession } from "./node-session.js";

/** Max transcript / message length the reference accepts. */
const MAX_TEXT = 20_000;

/** The payload of a node event: `payloadJSON` (string) wins over `payload`. */
export function nodeEventPayloadJson(p: { payload?: unknown; payloadJSON?: string }): string | null {
  if (typeof p.payloadJSON === "string") return p.payloadJSON;
  return p.payload !== undefined ? JSON.stringify(p.payload) : null;
}

function parseObject(json: string | null): Record<string, unknown> | undefined {
  if (!json) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

const str = (v: unknown): string => (typeof v === "string" ? v.trim() : "");

/** The system-event line of an exec notice (reference wording). */
export function execEventText(event: string, nodeId: string, o: Record<string, unknown>): string {
  const runId = str(o.runId);
  const command = str(o.command);
  const exitCode = typeof o.exitCode === "number" && Number.isFinite(o.exitCode) ? o.exitCode : undefined;
  const output = str(o.output);
  const reason = str(o.reason);
  const id = runId ? ` id=${runId}` : "";
  if (event === "exec.started") return `Exec started (node=${nodeId}${id})${command ? `: ${command}` : ""}`;
  if (event === "exec.finished") {
    const exit = o.timedOut === true ? "timeout" : `code ${exitCode ?? "?"}`;
    return `Exec finished (node=${nodeId}${id}, ${exit})${output ? `\n${output}` : ""}`;
  }
  return `Exec denied (node=${nodeId}${id}${reason ? `, ${reason}` : ""})${command ? `: ${command}` : ""}`;
}

function agentUnavailable(event: string): GatewayError {
  return new GatewayError("GW_ERR_NODE_AGENT_UNAVAILABLE", "agent runs are not available yet", { event });
}

/** Handles one `node.event` from `node` (its live or replaced session). */
export function handleNodeEvent(nodes: NodeService, node: NodeSession, event: string, payloadJson: string | null): void {
  switch (event) {
    case "chat.subscribe":
    case "chat.unsubscribe": {
      const sessionKey = str(parseObject(payloadJson)?.sessionKey);
      if (!sessionKey) return;
      if (event === "chat.subscribe") nodes.subscriptions.subscribe(node, sessionKey);
      else nodes.subscriptions.unsubscribe(node, sessionKey);
      return;
    }
    case "exec.started":
    case "exec.finished":
    case "exec.denied": {
      const o = parseObject(payloadJson);
      if (!o) return;
      const sessionKey = typeof o.sessionKey === "string" ? o.sessionKey.trim() : `node-${node.nodeId}`;
      if (!sessionKey) return;
      nodes.systemEvents.enqueue(sessionKey, execEventText(event, node.nodeId, o));
      return;
    }
    case "voice.transcript": {
      const text = str(parseObject(payloadJson)?.text);
      if (text && text.length <= MAX_TEXT) throw agentUnavailable(event);
      return;
    }
    case "agent.request": {
      const message = str(parseObject(payloadJson)?.message);
      if (message && message.length <= MAX_TEXT) throw agentUnavailable(event);
      return;
    }
    default:
      return;
  }
}
