/**
 * Node chat subscriptions (`node.event` `chat.subscribe` / `chat.unsubscribe`, §3.11).
 *
 * A node receives `chat` and `agent` events only for the sessions it subscribed to
 * (unicast, no seq), and — while it has at least one subscription — `health`
 * broadcasts: it joins the `NODE_HEALTH_TOPIC` uWS topic, which the event bus publishes
 * `health` to besides the operators' topic. Unsubscribed nodes never see either.
 *
 * Subscriptions belong to the connection (a node that reconnects subscribes again, as
 * the reference's node client does on every connect); its disconnect clears them.
 */
import { encodeEventRaw } from "../socket/frames.js";
import { Phase } from "../socket/connection.js";
import { NODE_HEALTH_TOPIC } from "../events/event-policy.js";
import type { NodeSession } from "./node-session.js";

/** Session key ↔ subscribed node connections. */
export class NodeSubscriptions {
  private readonly bySessionKey = new Map<string, Set<NodeSession>>();

  /** Number of session keys with at least one subscriber. */
  get sessionCount(): number {
    return this.bySessionKey.size;
  }

  subscribe(node: NodeSession, sessionKey: string): void {
    const mine = (node.chatSessions ??= new Set());
    if (mine.has(sessionKey)) return;
    mine.add(sessionKey);
    let set = this.bySessionKey.get(sessionKey);
    if (!set) {
      set = new Set();
      this.bySessionKey.set(sessionKey, set);
    }
    set.add(node);
    if (mine.size === 1) setHealthTopic(node, true);
  }

  unsubscribe(node: NodeSession, sessionKey: string): void {
    const mine = node.chatSessions;
    if (!mine?.delete(sessionKey)) return;
    this.dropFromKey(node, sessionKey);
    if (mine.size === 0) {
      node.chatSessions = null;
      setHealthTopic(node, false);
    }
  }

  /** Clears every subscription of a node (its socket closed). */
  unsubscribeAll(node: NodeSession): void {
    const mine = node.chatSessions;
    if (!mine) return;
    node.chatSessions = null;
    for (const key of mine) this.dropFromKey(node, key);
  }

  /** The nodes subscribed to `sessionKey`. */
  subscribers(sessionKey: string): ReadonlySet<NodeSession> | undefined {
    return this.bySessionKey.get(sessionKey);
  }

  /**
   * Unicasts `event` to every node subscribed to `sessionKey` (for `chat`/`agent`
   * events of that session). The frame is serialised once. Returns how many got it.
   */
  sendToSession(sessionKey: string, event: string, payload: unknown): number {
    const set = this.bySessionKey.get(sessionKey);
    if (!set || set.size === 0) return 0;
    const frame = encodeEventRaw(event, payload === undefined ? undefined : JSON.stringify(payload));
    let n = 0;
    for (const node of set) {
      const ws = node.conn.ws;
      if (!ws || node.conn.phase !== Phase.Ready) continue;
      if (ws.send(frame, false) !== 2) n++;
    }
    return n;
  }

  private dropFromKey(node: NodeSession, sessionKey: string): void {
    const set = this.bySessionKey.get(sessionKey);
    if (!set) return;
    set.delete(node);
    if (set.size === 0) this.bySessionKey.delete(sessionKey);
  }
}

function setHealthTopic(node: NodeSession, on: boolean): void {
  const ws = node.conn.ws;
  if (!ws || node.conn.phase !== Phase.Ready) return;
  if (on) ws.subscribe(NODE_HEALTH_TOPIC);
  else ws.unsubscribe(NODE_HEALTH_TOPIC);
}
