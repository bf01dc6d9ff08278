/**
 * Who receives which broadcast, and which events may be dropped for a slow client
 * (§1.7, §4.1, §4.2).
 *
 * Views: every ready socket belongs to exactly one *view*, the set of audiences it may
 * receive (`audiencesOf(role, scopes)`); there are few (nodes, and operators with or
 * without the pairing and approvals scopes). Each view has its own uWS topic and its
 * own `seq` counter, so the seq a client sees is contiguous: events it may not see do
 * not take numbers from its counter (the reference's one gateway-wide counter made a
 * read-only client see gaps at every pairing event and re-fetch). A broadcast is
 * serialised once per view that can see it, never per recipient.
 *
 * Unlike the reference, node-role sockets only see `all` (tick, shutdown):
 * operator-facing streams (presence lists, health, agent, chat, pairing) are not pushed
 * to thousands of nodes that never asked for them.
 */
import { audiencesOf, SCOPE_APPROVALS, SCOPE_PAIRING, type Audience, type Role } from "../../shared/protocol/scopes.js";

/** A class of sockets that receive the same broadcasts (one topic, one seq counter). */
export interface View {
  /** `audiencesOf(...)` joined with "+" (e.g. "all+operators+pairing"). */
  readonly key: string;
  readonly topic: string;
  readonly audiences: ReadonlySet<Audience>;
}

function viewKey(audiences: readonly Audience[]): string {
  return audiences.join("+");
}

/**
 * Every view a socket can have, derived from `audiencesOf` over the role and the
 * scopes that change the audience set (admin is covered: it yields the same set as
 * pairing + approvals).
 */
export const VIEWS: readonly View[] = (() => {
  const sets: Audience[][] = [
    audiencesOf("node", []),
    audiencesOf("operator", []),
    audiencesOf("operator", [SCOPE_PAIRING]),
    audiencesOf("operator", [SCOPE_APPROVALS]),
    audiencesOf("operator", [SCOPE_PAIRING, SCOPE_APPROVALS]),
  ];
  const byKey = new Map<string, View>();
  for (const a of sets) {
    const key = viewKey(a);
    if (!byKey.has(key)) byKey.set(key, { key, topic: `v:${key}`, audiences: new Set(a) });
  }
  return [...byKey.values()];
})();

const VIEW_BY_KEY = new Map(VIEWS.map((v) => [v.key, v]));

/** The view of a socket with this role and these (resolved) scopes. */
export function viewOf(role: Role, scopes: readonly string[]): View {
  const view = VIEW_BY_KEY.get(viewKey(audiencesOf(role, scopes)));
  // VIEWS enumerates every audience set audiencesOf can return.
  if (!view) throw new Error("no view for this audience set");
  return view;
}

/**
 * Joined by node sockets while they hold a chat subscription (see
 * `nodes/node-subscriptions.ts`): `health` is published here too, so subscribed nodes
 * get it and the rest of the fleet does not. Like every delivery to a node through its
 * subscriptions (§1.2: "everything delivered to nodes via the node registry"), these
 * frames carry no `seq`, so the node's own view counter stays contiguous. Nodes are
 * never in an operator view, so nobody receives a health frame twice.
 */
export const NODE_HEALTH_TOPIC = "t:node-health";

/** Extra topic an event is also published to (without seq), besides its views'. */
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
