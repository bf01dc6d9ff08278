/**
 * Broadcasts with a gateway-wide `seq`, serialised once and published to a uWS topic.
 *
 * Slow consumers (§1.7): uWS skips a subscriber whose buffered bytes exceed
 * `maxBackpressure` (= policy.maxBufferedBytes) — exactly "dropIfSlow". For a
 * must-deliver event the recipients that are already over the limit are closed with
 * 1008 "slow consumer" first, so no one silently misses it and no other client waits.
 * Only operator sockets receive must-deliver events besides `shutdown`, so that check
 * walks the (small) operator set, never the node fleet.
 */
import type { TemplatedApp } from "uWebSockets.js";
import { encodeEventRaw, type StateVersionValue } from "../socket/frames.js";
import { Phase, type Connection } from "../socket/connection.js";
import type { ConnectionRegistry } from "../socket/registry.js";
import { TOPIC, audienceOf, extraTopicOf, isDroppable } from "./event-policy.js";

export interface BroadcastOptions {
  /** Attach `stateVersion` (presence and health events). */
  withStateVersion?: boolean;
  /** Payload already serialised to JSON. */
  payloadJson?: string;
}

export interface EventBusDeps {
  app: TemplatedApp;
  registry: ConnectionRegistry;
  maxBufferedBytes: () => number;
  onSlowConsumer: (conn: Connection, event: string) => void;
}

export class EventBus {
  private seqCounter = 0;
  readonly stateVersion: StateVersionValue = { presence: 1, health: 1 };

  constructor(private readonly deps: EventBusDeps) {}

  get seq(): number {
    return this.seqCounter;
  }

  /** Broadcasts `event` to its audience; returns the frame's seq. */
  broadcast(event: string, payload: unknown, opts: BroadcastOptions = {}): number {
    const seq = ++this.seqCounter;
    const json = opts.payloadJson ?? (payload === undefined ? undefined : JSON.stringify(payload));
    const frame = encodeEventRaw(event, json, seq, opts.withStateVersion ? { ...this.stateVersion } : undefined);
    const audience = audienceOf(event);
    if (!isDroppable(event, payload)) this.closeSlow(audience === "all" ? this.deps.registry.open : this.deps.registry.operators, event);
    this.deps.app.publish(TOPIC[audience], frame, false);
    const extra = extraTopicOf(event);
    if (extra) this.deps.app.publish(extra, frame, false);
    return seq;
  }

  /** Sends a unicast event (no seq). Returns false when the socket is gone or over its limit. */
  unicast(conn: Connection, event: string, payload: unknown): boolean {
    const ws = conn.ws;
    if (!ws || conn.phase === Phase.Closed) return false;
    const frame = encodeEventRaw(event, payload === undefined ? undefined : JSON.stringify(payload));
    return ws.send(frame, false) !== 2;
  }

  private closeSlow(conns: Iterable<Connection>, event: string): void {
    const limit = this.deps.maxBufferedBytes();
    for (const conn of conns) {
      const ws = conn.ws;
      if (!ws || conn.phase !== Phase.Ready) continue;
      if (ws.getBufferedAmount() > limit) this.deps.onSlowConsumer(conn, event);
    }
  }
}
