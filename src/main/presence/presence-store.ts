/**
 * The presence store of §6: one in-memory map keyed (lower-cased, trimmed) by
 * device id → instance id → connection id, with a self entry for the gateway host.
 *
 * Listing prunes entries older than 5 minutes and caps the map (oldest `ts` first),
 * exactly like the reference; the rendered list is cached per version. During a
 * connect storm every handshake is a change (its own entry), so the list JSON is
 * assembled from per-entry JSON strings cached on the (immutable) entry objects:
 * a handshake serialises only its own entry, never the whole 200-entry list.
 */
import os from "node:os";
import type { PresenceEntry } from "../../shared/protocol/generated/types.js";

export const PRESENCE_TTL_MS = 300_000;

/** Fields an update may set; arrays `roles`/`scopes` merge as a union. */
export type PresenceUpdate = Partial<Omit<PresenceEntry, "ts">>;

function firstExternalIPv4(): string | undefined {
  const ifaces = os.networkInterfaces();
  const preferred = ["en0", "eth0"];
  for (const name of [...preferred, ...Object.keys(ifaces)]) {
    for (const a of ifaces[name] ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return undefined;
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (!a && !b) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

/**
 * Entries of other gateways merged into `list()` (cluster presence, see
 * cluster/presence-table.ts). The store stays the owner of its local entries.
 */
export interface PresenceOverlay {
  /** Bumped whenever the merged-in entries change (the list is re-rendered on change). */
  readonly version: number;
  /** The merged list: `local` plus the overlay's entries, newest first, at most `max`. */
  merge(local: ReadonlyMap<string, PresenceEntry>, now: number, max: number): PresenceEntry[];
}

/** Told of every local upsert (the cluster publishes it); must not throw. */
export type PresenceUpsertListener = (key: string, entry: PresenceEntry) => void;

/** Normalises a presence key the way the reference does. */
export function presenceKey(raw: string): string {
  return raw.trim().toLowerCase();
}

export class PresenceStore {
  private readonly entries = new Map<string, PresenceEntry>();
  private readonly selfKey: string;
  private readonly selfEntry: PresenceEntry;
  private cacheVersion = -1;
  private cacheJson = "[]";
  private cacheList: PresenceEntry[] = [];
  /** JSON of each entry object; upserts replace entries, so a stale string is never reused. */
  private entryJson = new WeakMap<PresenceEntry, string>();
  /** Bumped on every mutation; `list()` caches on it. */
  private mutation = 0;
  private overlay: PresenceOverlay | null = null;
  private overlayVersion = -1;
  private readonly upsertListeners: PresenceUpsertListener[] = [];

  constructor(
    private maxEntries: number,
    version: string,
    private readonly now: () => number = Date.now,
  ) {
    const host = os.hostname();
    const ip = firstExternalIPv4() ?? host;
    this.selfKey = presenceKey(host);
    this.selfEntry = {
      host,
      ip,
      version,
      platform: `${os.platform()} ${os.release()}`,
      deviceFamily: os.platform() === "darwin" ? "Mac" : os.platform() === "win32" ? "Windows" : "Linux",
      modelIdentifier: os.arch(),
      mode: "gateway",
      reason: "self",
      text: `Gateway: ${host} (${ip}) · app ${version} · mode gateway · reason self`,
      ts: this.now(),
    };
    this.entries.set(this.selfKey, this.selfEntry);
  }

  setMaxEntries(max: number): void {
    this.maxEntries = max;
    this.mutation++;
  }

  /** Merges other gateways' entries into `list()` (null: local entries only). */
  setOverlay(overlay: PresenceOverlay | null): void {
    this.overlay = overlay;
    this.mutation++;
  }

  /** Adds a listener of local upserts. */
  onUpsert(fn: PresenceUpsertListener): void {
    this.upsertListeners.push(fn);
  }

  /** Key of the gateway's own entry. */
  get selfPresenceKey(): string {
    return this.selfKey;
  }

  /** Names this gateway in its own entry (`instanceId`: the cluster's gateway id). */
  setSelfInstanceId(id: string): void {
    this.selfEntry.instanceId = id;
    this.entryJson.delete(this.selfEntry);
    this.mutation++;
  }

  /** This gateway's own entries (TTL-pruned, capped), without any overlay. */
  localEntries(): ReadonlyMap<string, PresenceEntry> {
    this.prune();
    return this.entries;
  }

  /** Merges `update` onto the entry under `key` and refreshes its `ts`. */
  upsert(rawKey: string, update: PresenceUpdate): PresenceEntry {
    const key = presenceKey(rawKey);
    const prev = this.entries.get(key);
    const next: PresenceEntry = { ...prev, ...stripUndefined(update), ts: this.now() };
    const roles = union(prev?.roles, update.roles);
    const scopes = union(prev?.scopes, update.scopes);
    if (roles) next.roles = roles;
    if (scopes) next.scopes = scopes;
    if (!next.text) next.text = `Node: ${next.host ?? key} · mode ${next.mode ?? "unknown"}`;
    // Re-inserted at the end: the map stays in ts order (see prune).
    this.entries.delete(key);
    this.entries.set(key, next);
    this.mutation++;
    // Nodes' hello-ok carries no list, so a node connect storm may never call list():
    // keep the cap here too, or the map would hold one entry per node until it does.
    if (this.entries.size > this.maxEntries) this.prune();
    for (const fn of this.upsertListeners) fn(key, next);
    return next;
  }

  get(rawKey: string): PresenceEntry | undefined {
    return this.entries.get(presenceKey(rawKey));
  }

  /** TTL-pruned, capped list, newest first. */
  list(): PresenceEntry[] {
    this.prune();
    const overlay = this.overlay;
    if (this.cacheVersion !== this.mutation || (overlay !== null && this.overlayVersion !== overlay.version)) {
      this.overlayVersion = overlay?.version ?? -1;
      this.cacheList = overlay ? overlay.merge(this.entries, this.now(), this.maxEntries) : [...this.entries.values()].sort((a, b) => b.ts - a.ts);
      let json = "[";
      for (let i = 0; i < this.cacheList.length; i++) {
        const e = this.cacheList[i] as PresenceEntry;
        let s = this.entryJson.get(e);
        if (s === undefined) {
          s = JSON.stringify(e);
          this.entryJson.set(e, s);
        }
        json += i === 0 ? s : `,${s}`;
      }
      this.cacheJson = `${json}]`;
      this.cacheVersion = this.mutation;
    }
    return this.cacheList;
  }

  /** The list as JSON, serialised once per change. */
  listJson(): string {
    this.list();
    return this.cacheJson;
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(): void {
    const now = this.now();
    // The self entry is always fresh (its ts is refreshed on list, as in the reference).
    if (now - this.selfEntry.ts > 1000) {
      this.selfEntry.ts = now;
      this.entryJson.delete(this.selfEntry);
      this.mutation++;
    }
    // Entries are kept in `ts` order (upsert re-inserts its key at the end, with ts = now),
    // so the expired and the oldest ones are at the front: a prune touches what it
    // removes, not the whole map — it runs on every handshake of a connect storm.
    let changed = false;
    let excess = this.entries.size - this.maxEntries;
    for (const [k, e] of this.entries) {
      if (k === this.selfKey) continue;
      if (excess <= 0 && now - e.ts <= PRESENCE_TTL_MS) break;
      this.entries.delete(k);
      excess--;
      changed = true;
    }
    if (this.entries.size === 0) this.entries.set(this.selfKey, this.selfEntry);
    if (changed) this.mutation++;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
