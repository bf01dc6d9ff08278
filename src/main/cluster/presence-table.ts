/**
 * The other gateways' presence entries, as this gateway last heard them, and the merge of
 * those with the local store into the one list `system-presence`, `hello-ok` and `presence`
 * events serve (the store calls `merge` through its overlay hook).
 *
 * Each peer announces under an *epoch* (one per process start) a *seq* that its deltas
 * increment. A delta with the next seq applies; anything else (a peer not heard before, a
 * new epoch after a restart, a skipped seq after a broker outage, a heartbeat whose seq is
 * ahead) still applies what it carries but reports a gap, and the caller asks that peer
 * for its full state, which replaces the peer's entries. A peer not heard from for the
 * silence bound (3 heartbeats) is dropped with its entries: this is how a gateway killed
 * with -9 leaves the view.
 *
 * Merge: entries are keyed like the local store (device id, instance id, …). The same
 * key on two gateways (a device that moved from one to another) resolves to the newest
 * `ts`; its previous gateway's entry says "disconnect" with an older ts. Remote entries
 * past the presence TTL are skipped like local ones, and the merged list is capped at the
 * store's `maxEntries`, newest first.
 */
import type { PresenceEntry } from "../../shared/protocol/generated/types.js";
import { PRESENCE_TTL_MS, type PresenceOverlay } from "../presence/presence-store.js";

/** What one peer gateway announced. */
export interface PeerPresence {
  readonly gatewayId: string;
  epoch: string;
  seq: number;
  entries: Map<string, PresenceEntry>;
  /** Local clock (ms) of the last message from this peer. */
  lastHeardAt: number;
}

/** Outcome of a delta or heartbeat: `gap` → ask the peer for its full state. */
export type ApplyResult = "applied" | "stale" | "gap";

/** One row of the `clusterPresence` health section. */
export interface PeerSummary {
  gatewayId: string;
  entries: number;
  lastHeardAt: number;
}

export class PresenceTable implements PresenceOverlay {
  private readonly peers = new Map<string, PeerPresence>();
  private changes = 0;

  /** Bumped on every change of any peer's entries (the store re-renders its list then). */
  get version(): number {
    return this.changes;
  }

  /**
   * Replaces the peer's entries with its full state. Returns false when nothing a client
   * would notice changed: same keys, same `ts` — except gateway self entries, whose `ts`
   * is refreshed every second and would otherwise make each periodic full a broadcast.
   */
  applyFull(gatewayId: string, epoch: string, seq: number, entries: readonly (readonly [string, PresenceEntry])[], now: number): boolean {
    const known = this.peers.get(gatewayId);
    const before = known !== undefined && known.epoch === epoch ? known.entries : null;
    const peer = this.peerFor(gatewayId, epoch, now);
    peer.seq = seq;
    peer.entries = new Map(entries);
    if (before !== null && sameView(before, peer.entries)) return false;
    this.changes++;
    return true;
  }

  /** Applies changed entries; `gap` when seq does not follow the last one seen. */
  applyDelta(gatewayId: string, epoch: string, seq: number, entries: readonly (readonly [string, PresenceEntry])[], now: number): ApplyResult {
    const known = this.peers.get(gatewayId);
    const continues = known !== undefined && known.epoch === epoch;
    if (continues && seq <= known.seq) {
      known.lastHeardAt = now;
      return "stale";
    }
    const peer = this.peerFor(gatewayId, epoch, now);
    const gap = !continues || seq !== peer.seq + 1;
    peer.seq = seq;
    for (const [k, e] of entries) peer.entries.set(k, e);
    this.changes++;
    return gap ? "gap" : "applied";
  }

  /** Notes a heartbeat; `gap` when the peer is unknown, restarted or ahead of what we applied. */
  heartbeat(gatewayId: string, epoch: string, seq: number, now: number): ApplyResult {
    const peer = this.peers.get(gatewayId);
    if (peer === undefined || peer.epoch !== epoch) return "gap";
    peer.lastHeardAt = now;
    return seq > peer.seq ? "gap" : "applied";
  }

  /** Drops peers silent for longer than `silenceMs`; returns their ids. */
  expire(now: number, silenceMs: number): string[] {
    const gone: string[] = [];
    for (const [id, peer] of this.peers) {
      if (now - peer.lastHeardAt > silenceMs) {
        this.peers.delete(id);
        gone.push(id);
      }
    }
    if (gone.length > 0) this.changes++;
    return gone;
  }

  /** Forgets every peer (e.g. on stop). */
  clear(): void {
    if (this.peers.size === 0) return;
    this.peers.clear();
    this.changes++;
  }

  /** Peers currently in the view. */
  summary(): PeerSummary[] {
    return [...this.peers.values()].map((p) => ({ gatewayId: p.gatewayId, entries: p.entries.size, lastHeardAt: p.lastHeardAt }));
  }

  /** The merged list (see the file comment). */
  merge(local: ReadonlyMap<string, PresenceEntry>, now: number, max: number): PresenceEntry[] {
    const byKey = new Map(local);
    for (const peer of this.peers.values()) {
      for (const [k, e] of peer.entries) {
        if (now - e.ts > PRESENCE_TTL_MS) continue;
        const cur = byKey.get(k);
        if (cur === undefined || e.ts > cur.ts) byKey.set(k, e);
      }
    }
    const list = [...byKey.values()].sort((a, b) => b.ts - a.ts);
    return list.length > max ? list.slice(0, max) : list;
  }

  /** The peer record, reset when the epoch changed (a restarted gateway's old entries are void). */
  private peerFor(gatewayId: string, epoch: string, now: number): PeerPresence {
    let peer = this.peers.get(gatewayId);
    if (peer === undefined || peer.epoch !== epoch) {
      peer = { gatewayId, epoch, seq: 0, entries: new Map(), lastHeardAt: now };
      this.peers.set(gatewayId, peer);
    }
    peer.lastHeardAt = now;
    return peer;
  }
}

/** Same keys and entry times, ignoring the `ts` of gateway self entries. */
function sameView(a: ReadonlyMap<string, PresenceEntry>, b: ReadonlyMap<string, PresenceEntry>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, e] of b) {
    const prev = a.get(k);
    if (prev === undefined) return false;
    if (prev.ts !== e.ts && !(e.mode === "gateway" && e.reason === "self")) return false;
  }
  return true;
}
