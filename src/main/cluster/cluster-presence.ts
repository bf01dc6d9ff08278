/**
 * Presence across the cluster: this gateway publishes its own presence changes on
 * `names.presence` and merges every peer's entries into its store (`PresenceTable`, see
 * presence-table.ts for the seq/epoch rules and the merge).
 *
 *   local upsert  → key marked dirty → one `delta` per DELTA_WINDOW_MS with the dirty keys
 *   every heartbeatMs → `beat` (liveness + seq), expiry of silent peers, and every
 *                       FULL_EVERY beats a `full` (anti-entropy: entries pruned locally)
 *   (re)connect   → `want` to everyone, then our own `full`: a joining gateway and one
 *                   back from a broker outage converge without a restart
 *   gap (delta/beat seq ahead, unknown peer, new epoch) → `want` to that peer
 *
 * Deltas are batched because a node connect storm is one upsert per handshake: 5,000
 * nodes connecting in a second become ~50 messages, not 5,000. While the broker is down
 * nothing is published (dirty keys are dropped: the `full` at reconnect carries them) and
 * peers expire after the silence bound, like a dead gateway; they come back with their
 * `full` once the broker is.
 */
import type { Logger } from "pino";
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { PresenceEntry } from "../../shared/protocol/generated/types.js";
import { clusterMetrics } from "../metrics/cluster-metrics.js";
import type { PresenceStore } from "../presence/presence-store.js";
import type { BrokerHandles, ClusterConnection } from "./cluster-connection.js";
import { PresenceTable } from "./presence-table.js";
import { decodePresenceMessage, encodePresenceMessage, type PresenceEntries, type PresenceMessage } from "./presence-wire.js";

/** Local changes within this window go out as one delta. */
export const DELTA_WINDOW_MS = 20;
/** A full state goes out every this many heartbeats besides the ones asked for. */
export const FULL_EVERY = 15;
/** A peer silent for this many heartbeats leaves the view. */
export const SILENT_BEATS = 3;
/** Answers to `want` are coalesced over this window (several peers asking at once). */
const FULL_COALESCE_MS = 10;

export interface ClusterPresenceDeps {
  gatewayId: string;
  /** Subject of presence messages (`names.presence`). */
  subject: string;
  heartbeatMs: number;
  connection: ClusterConnection;
  store: PresenceStore;
  /** The merged view changed because of a peer: bump stateVersion and broadcast. */
  onRemoteChange: () => void;
  log: Logger;
  now?: () => number;
}

export class ClusterPresence {
  readonly table = new PresenceTable();
  /** One per process start: peers reset our entries when it changes. */
  readonly epoch = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  private seq = 0;
  private readonly dirty = new Set<string>();
  private deltaTimer: NodeJS.Timeout | null = null;
  private fullTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private beats = 0;
  private sub: Subscription | null = null;
  private subConn: BrokerHandles["nc"] | null = null;
  /** Last `want` sent per peer: at most one per heartbeat each. */
  private readonly wantedAt = new Map<string, number>();
  private stopped = false;
  private readonly now: () => number;
  private readonly selfWireKey: string;

  constructor(private readonly deps: ClusterPresenceDeps) {
    this.now = deps.now ?? Date.now;
    this.selfWireKey = `gateway:${deps.gatewayId}`;
  }

  start(): void {
    const { store, connection, heartbeatMs } = this.deps;
    store.setSelfInstanceId(this.deps.gatewayId);
    store.setOverlay(this.table);
    store.onUpsert((key) => this.localChanged(key));
    connection.onConnected((h) => this.connected(h));
    this.beatTimer = setInterval(() => this.tick(), heartbeatMs);
    this.beatTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.deltaTimer, this.fullTimer]) if (t) clearTimeout(t);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.deltaTimer = this.fullTimer = this.beatTimer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    this.deps.store.setOverlay(null);
  }

  private connected(h: BrokerHandles): void {
    if (this.stopped) return;
    // The client re-subscribes by itself after a reconnect of the same connection.
    if (this.subConn !== h.nc) {
      this.subConn = h.nc;
      this.sub = h.nc.subscribe(this.deps.subject, { callback: (err, msg) => (err ? undefined : this.receive(msg)) });
    }
    this.wantedAt.clear();
    this.publish({ k: "want", gw: this.deps.gatewayId, to: null });
    this.publishFull();
  }

  private localChanged(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    if (this.deltaTimer) return;
    this.deltaTimer = setTimeout(() => {
      this.deltaTimer = null;
      this.flushDelta();
    }, DELTA_WINDOW_MS);
    this.deltaTimer.unref();
  }

  private flushDelta(): void {
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty];
    this.dirty.clear();
    if (!this.deps.connection.available()) return;
    const local = this.deps.store.localEntries();
    const e: PresenceEntries = [];
    for (const k of keys) {
      const entry = local.get(k);
      if (entry) e.push(this.wireEntry(k, entry));
    }
    if (e.length === 0) return;
    this.seq++;
    this.publish({ k: "delta", gw: this.deps.gatewayId, ep: this.epoch, sq: this.seq, e });
  }

  private publishFull(): void {
    // Pending dirty keys are in the full state; the delta would only repeat them.
    this.dirty.clear();
    const e: PresenceEntries = [];
    for (const [k, entry] of this.deps.store.localEntries()) e.push(this.wireEntry(k, entry));
    this.publish({ k: "full", gw: this.deps.gatewayId, ep: this.epoch, sq: this.seq, e });
  }

  private scheduleFull(): void {
    if (this.fullTimer || this.stopped) return;
    this.fullTimer = setTimeout(() => {
      this.fullTimer = null;
      this.publishFull();
    }, FULL_COALESCE_MS);
    this.fullTimer.unref();
  }

  /** The self entry travels under a per-gateway key, so every gateway of one host shows. */
  private wireEntry(key: string, entry: PresenceEntry): [string, PresenceEntry] {
    if (key !== this.deps.store.selfPresenceKey) return [key, entry];
    return [this.selfWireKey, entry];
  }

  private tick(): void {
    const now = this.now();
    const gone = this.table.expire(now, SILENT_BEATS * this.deps.heartbeatMs);
    if (gone.length > 0) {
      this.deps.log.info({ gateways: gone }, "cluster: presence of silent gateways removed");
      this.deps.onRemoteChange();
    }
    if (!this.deps.connection.available()) return;
    this.beats++;
    if (this.beats % FULL_EVERY === 0) this.publishFull();
    else this.publish({ k: "beat", gw: this.deps.gatewayId, ep: this.epoch, sq: this.seq });
  }

  private receive(msg: Msg): void {
    clusterMetrics.messageIn("presence");
    const m = decodePresenceMessage(msg.string());
    if (m === null || m.gw === this.deps.gatewayId || this.stopped) return;
    const now = this.now();
    switch (m.k) {
      case "delta": {
        const r = this.table.applyDelta(m.gw, m.ep, m.sq, m.e, now);
        if (r !== "stale") this.deps.onRemoteChange();
        if (r === "gap") this.want(m.gw, now);
        break;
      }
      case "full":
        if (this.table.applyFull(m.gw, m.ep, m.sq, m.e, now)) this.deps.onRemoteChange();
        break;
      case "beat":
        if (this.table.heartbeat(m.gw, m.ep, m.sq, now) === "gap") this.want(m.gw, now);
        break;
      case "want":
        if (m.to === null || m.to === this.deps.gatewayId) this.scheduleFull();
        break;
    }
  }

  private want(gatewayId: string, now: number): void {
    const last = this.wantedAt.get(gatewayId);
    if (last !== undefined && now - last < this.deps.heartbeatMs) return;
    this.wantedAt.set(gatewayId, now);
    this.publish({ k: "want", gw: this.deps.gatewayId, to: gatewayId });
  }

  private publish(m: PresenceMessage): void {
    const h = this.deps.connection.current();
    if (h === null) return;
    try {
      h.nc.publish(this.deps.subject, encodePresenceMessage(m));
      clusterMetrics.messageOut("presence");
    } catch (err) {
      this.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, "cluster: presence publish failed");
    }
  }
}
