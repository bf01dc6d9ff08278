/**
 * `node.event` (§3.11): what a node reports to the gateway.
 *
 *   chat.subscribe / chat.unsubscribe   {sessionKey}  → node chat subscriptions
 *   exec.started / .finished / .denied                → system event for the session
 *                                                       (default `node-<nodeId>`)
 *   voice.transcript / agent.request                  → start an agent run through the
 *                                                       hooks the agents module set
 *                                                       (none set: UNAVAILABLE)
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

/** What the agents module provides for node-started runs (fire and forget; errors are logged there). */
export interface NodeAgentHooks {
  /** `voice.transcript {text, sessionKey?}`: a turn in `sessionKey` or the main key. */
  voiceTranscript(nodeId: string, p: { text: string; sessionKey?: string }): void;
  /** `agent.request {message, sessionKey?, thinking?, timeoutSeconds?, key?}`: a turn in `sessionKey` or `node-<nodeId>`. */
  agentRequest(nodeId: string, p: { message: string; sessionKey?: string; timeoutSeconds?: number; key?: string; thinking?: string }): void;
}

interface AgentLink {
  hooks?: NodeAgentHooks;
  nodes?: NodeService;
}

/**
 * Per gateway instance (keyed by its live-options cell, which the core and every module
 * share): the agents module's hooks, and the node service (recorded on its first
 * `node.event`) so agent relays can reach subscribed nodes without a dependency on it.
 */
const links = new WeakMap<object, AgentLink>();

function linkOf(live: object): AgentLink {
  let l = links.get(live);
  if (l === undefined) links.set(live, (l = {}));
  return l;
}

/** Installs (or clears) the agent-run hooks of the gateway owning `live`. */
export function setNodeAgentHooks(live: object, hooks: NodeAgentHooks | undefined): void {
  linkOf(live).hooks = hooks;
}

/** The node service of the gateway owning `live`, once a node sent an event (subscriptions need one). */
export function nodeServiceOf(live: object): NodeService | undefined {
  return links.get(live)?.nodes;
}

function agentUnavailable(event: string): GatewayError {
  return new GatewayError("GW_ERR_NODE_AGENT_UNAVAILABLE", "agent runs are not available yet", { event });
}

/** Handles one `node.event` from `node` (its live or replaced session). */
export function handleNodeEvent(nodes: NodeService, node: NodeSession, event: string, payloadJson: string | null): void {
  const link = linkOf(nodes.deps.live);
  link.nodes = nodes;
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
      const o = parseObject(payloadJson);
      const text = str(o?.text);
      if (!text || text.length > MAX_TEXT) return;
      if (link.hooks === undefined) throw agentUnavailable(event);
      const sessionKey = str(o?.sessionKey);
      link.hooks.voiceTranscript(node.nodeId, sessionKey ? { text, sessionKey } : { text });
      return;
    }
    case "agent.request": {
      const o = parseObject(payloadJson);
      const message = str(o?.message);
      if (!message || message.length > MAX_TEXT) return;
      if (link.hooks === undefined) throw agentUnavailable(event);
      const p: Parameters<NodeAgentHooks["agentRequest"]>[1] = { message };
      if (str(o?.sessionKey)) p.sessionKey = str(o?.sessionKey);
      if (str(o?.key)) p.key = str(o?.key);
      if (str(o?.thinking)) p.thinking = str(o?.thinking);
      if (typeof o?.timeoutSeconds === "number" && Number.isFinite(o.timeoutSeconds) && o.timeoutSeconds > 0) p.timeoutSeconds = o.timeoutSeconds;
      link.hooks.agentRequest(node.nodeId, p);
      return;
    }
    default:
      return;
  }
}
