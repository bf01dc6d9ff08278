/**
 * Who receives which broadcast, and which events may be dropped for a slow client
 * (§1.7, §4.1, §4.2).
 *
 * Audiences map to uWS topics. Unlike the reference, node-role sockets only join
 * `all` (tick, shutdown): operator-facing streams (presence lists, health, agent,
 * chat, pairing) are not pushed to thousands of nodes that never asked for them.
 */
import type { Audience } from "../../shared/protocol/scopes.js";

export const TOPIC: Record<Audience, string> = {
  all: "t:all",
  operators: "t:op",
  pairing: "t:pair",
  approvals: "t:appr",
};

/**
 * Joined by node sockets while they hold a chat subscription (see
 * `nodes/node-subscriptions.ts`): `health` is published here too, so subscribed nodes
 * get it and the rest of the fleet does not. Nodes are never in `t:op`, so nobody
 * receives a health frame twice.
 */
export const NODE_HEALTH_TOPIC = "t:node-health";

/** Extra topic an event is also published to, besides its audience's. */
export function extraTopicOf(event: string): string | undefined {
  return event === "health" ? NODE_HEALTH_TOPIC : undefined;
}

const DROPPABLE = new Set(["tick", "presence", "heartbeat", "cron", "talk.mode", "voicewake.changed"]);

/** dropIfSlow: skip a slow client instead of closing it. */
export function isDroppable(event: string, payload?: unknown): boolean {
  if (DROPPABLE.has(event)) return true;
  if (event.startsWith("node.pair.") || event.startsWith("device.pair.") || event.startsWith("exec.approval.")) {
    return true;
  }
  if (event === "chat") {
    return typeof payload === "object" && payload !== null && (payload as { state?: unknown }).state === "delta";
  }
  return false;
}

/** The audience (topic) of a broadcast event. */
export function audienceOf(event: string): Audience {
  if (event === "tick" || event === "shutdown") return "all";
  if (event.startsWith("node.pair.") || event.startsWith("device.pair.")) return "pairing";
  if (event.startsWith("exec.approval.")) return "approvals";
  return "operators";
}
