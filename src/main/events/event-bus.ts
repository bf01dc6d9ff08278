/**
 * Broadcasts with a per-view `seq` (see `event-policy.ts`): the payload is serialised
 * once, the frame once per view that may see the event, and published to that view's
 * uWS topic.
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
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { VIEWS, audienceOf, extraTopicOf, isDroppable } from "./event-policy.js";

export interface BroadcastOptions {
  /** Attach `stateVersion` (presence and health events). */
  withStateVersion?: boolean;
  /** Payload already serialised to JSON. */
  payloadJson?: string;
  /**
   * Received from another gateway of the cluster: delivered to local sockets only, never
   * handed to the relay again (no loops).
   */
  fromCluster?: boolean;
  /** dropIfSlow decided by the sender (remote events arrive without a parsed payload). */
  droppable?: boolean;
}

/**
 * Hands a locally raised broadcast to the cluster (cluster/cluster-events.ts), after local
 * delivery: the payload JSON is the one the local frames were built from.
 */
export type BroadcastRelay = (event: string, payloadJson: string | undefined, droppable: boolean) => void;

export interface EventBusDeps {
  app: TemplatedApp;
  registry: ConnectionRegistry;
  maxBufferedBytes: () => number;
  onSlowConsumer: (conn: Connection, event: string) => void;
  /** A unicast was queued behind a backlog (uWS returned BACKPRESSURE). */
  onBackpressure?: (conn: Connection) => void;
}

export class EventBus {
  /** Per-view counters, index-aligned with VIEWS. */
  private readonly seqs = new Array<number>(VIEWS.length).fill(0);
  readonly stateVersion: StateVersionValue = { presence: 1, health: 1 };
  private relay: BroadcastRelay | null = null;

  constructor(private readonly deps: EventBusDeps) {}

  /** Sets (or clears) where local broadcasts are also handed (the cluster). */
  setRelay(relay: BroadcastRelay | null): void {
    this.relay = relay;
  }

  /** Last seq sent to the view with this key (0 before its first event). */
  seqOf(viewKey: string): number {
    const i = VIEWS.findIndex((v) => v.key === viewKey);
    return i < 0 ? 0 : this.seqs[i]!;
  }

  /** Broadcasts `event` to every view of its audience. */
  broadcast(event: string, payload: unknown, opts: BroadcastOptions = {}): void {
    const t0 = performance.now();
    const json = opts.payloadJson ?? (payload === undefined ? undefined : JSON.stringify(payload));
    const sv = opts.withStateVersion ? { ...this.stateVersion } : undefined;
    const audience = audienceOf(event);
    const droppable = opts.droppable ?? isDroppable(event, payload);
    if (!droppable) this.closeSlow(audience === "all" ? this.deps.registry.open : this.deps.registry.operators, event);
    const app = this.deps.app;
    for (let i = 0; i < VIEWS.length; i++) {
      const view = VIEWS[i]!;
      if (!view.audiences.has(audience)) continue;
      const seq = ++this.seqs[i]!;
      const frame = encodeEventRaw(event, json, seq, sv);
      gatewayMetrics.broadcast(frame.length);
      app.publish(view.topic, frame, false);
    }
    const extra = extraTopicOf(event);
    if (extra) app.publish(extra, encodeEventRaw(event, json, undefined, sv), false);
    gatewayMetrics.fanoutDone(t0);
    if (this.relay !== null && opts.fromCluster !== true) this.relay(event, json, droppable);
  }

  /** Sends a unicast event (no seq). Returns false when the socket is gone or over its limit. */
  unicast(conn: Connection, event: string, payload: unknown): boolean {
    const ws = conn.ws;
    if (!ws || conn.phase === Phase.Closed) return false;
    const frame = encodeEventRaw(event, payload === undefined ? undefined : JSON.stringify(payload));
    gatewayMetrics.frameOut(frame.length);
    const result = ws.send(frame, false);
    if (result === 1) this.deps.onBackpressure?.(conn);
    return result !== 2;
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
