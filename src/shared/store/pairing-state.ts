/**
 * The persistence both pairing stores share (devices and legacy nodes): `<dir>/paired.json`
 * and `<dir>/pending.json` held in memory and written behind.
 *
 * - `open` reads both files once (missing → empty, corrupt → quarantined + empty, malformed
 *   records dropped); afterwards the maps are the source of truth and reads never wait for disk.
 * - Callers mutate `paired` / `pending` synchronously (one JS thread ⇒ serialised) and then
 *   mark what changed. One `WriteBehindQueue` snapshots the dirty maps and writes them
 *   atomically, coalescing bursts. paired.json is written first, so pending.json on disk is
 *   never newer than paired.json: a crash between the two can leave an approved request still
 *   pending (approving it again is harmless), never an approval that vanished with its request.
 * - `markPairedLazy` is for metadata-only changes (last-used / last-connected timestamps): they
 *   are written after `lazyPersistMs`, or with the next real mutation or flush, so a reconnect
 *   storm costs one write. A crash loses a timestamp, never a pairing.
 * - Pending requests expire after `pendingTtlMs` (pruned on access and by an unref'd timer).
 */
import { join } from "node:path";
import { GatewayError } from "../errors.js";
import { writeFileAtomic } from "./atomic-json.js";
import { loadRecordFile } from "./device-pairing-files.js";
import type { LoadWarning } from "./device-pairing-files.js";
import { WriteBehindQueue } from "./write-behind.js";

/** Turns one untrusted record read from a file into a typed record, or undefined to drop it. */
export type RecordSanitizer<T> = (key: string, value: unknown) => T | undefined;

/** Options of `PairingState.open`. */
export interface PairingStateOptions<P, Q> {
  /** Directory holding `paired.json` and `pending.json`. */
  dir: string;
  /** Names the store in errors and warnings, e.g. "device pairing". */
  label: string;
  sanitizePaired: RecordSanitizer<P>;
  sanitizePending: RecordSanitizer<Q>;
  now: () => number;
  pendingTtlMs: number;
  pruneIntervalMs: number;
  lazyPersistMs: number;
  onWarning?: LoadWarning;
}

/** The options both pairing stores take (`DevicePairingStoreOptions`, `NodePairingStoreOptions`). */
export interface PairingStoreOptions {
  stateDir: string;
  onWarning?: LoadWarning;
  now?: () => number;
  pendingTtlMs?: number;
  pruneIntervalMs?: number;
  lazyPersistMs?: number;
}

/** What one pairing store fixes: where its files live, its name, its record sanitisers and defaults. */
export interface PairingStoreSpec<P, Q> {
  /** Subdirectory of the state dir, e.g. "devices". */
  subdir: string;
  label: string;
  sanitizePaired: RecordSanitizer<P>;
  sanitizePending: RecordSanitizer<Q>;
  defaultPendingTtlMs: number;
  defaultLazyPersistMs: number;
}

const serialize = (records: Map<string, unknown>): string => `${JSON.stringify(Object.fromEntries(records), null, 2)}\n`;

/** Two record maps with write-behind persistence and pending-request expiry. */
export class PairingState<P, Q extends { ts: number }> {
  readonly pairedPath: string;
  readonly pendingPath: string;
  readonly now: () => number;
  readonly paired = new Map<string, P>();
  readonly pending = new Map<string, Q>();
  readonly #opts: PairingStateOptions<P, Q>;
  readonly #queue: WriteBehindQueue;
  readonly #pruneTimer: NodeJS.Timeout;
  #lazyTimer: NodeJS.Timeout | null = null;
  #pairedDirty = false;
  #pendingDirty = false;
  #closed = false;
  /** pending.json as last written (or read): a silent pairing creates and removes a request in one turn, which need not cost a write. */
  #pendingOnDisk: string | undefined;
  /** Serialised text of each paired record, valid until the record is marked. */
  #pairedText = new Map<string, string>();

  private constructor(opts: PairingStateOptions<P, Q>) {
    this.#opts = opts;
    this.now = opts.now;
    this.pairedPath = join(opts.dir, "paired.json");
    this.pendingPath = join(opts.dir, "pending.json");
    this.#queue = new WriteBehindQueue(() => this.#persist(), {
      onError: (err) => this.warn(`${opts.label} state could not be written; retrying`, { error: String(err) }),
    });
    this.#pruneTimer = setInterval(() => this.prune(), opts.pruneIntervalMs);
    this.#pruneTimer.unref();
  }

  /** Loads both files and starts the prune timer. */
  static async open<P, Q extends { ts: number }>(opts: PairingStateOptions<P, Q>): Promise<PairingState<P, Q>> {
    const state = new PairingState<P, Q>(opts);
    const warn: LoadWarning = (message, details) => state.warn(message, details);
    try {
      for (const [k, v] of await loadRecordFile(state.pairedPath, opts.sanitizePaired, warn)) state.paired.set(k, v);
      for (const [k, v] of await loadRecordFile(state.pendingPath, opts.sanitizePending, warn)) state.pending.set(k, v);
    } catch (err) {
      clearInterval(state.#pruneTimer);
      throw err;
    }
    state.prune();
    return state;
  }

  /** Opens the state of a pairing store from the store's options, filling in its defaults. */
  static openStore<P, Q extends { ts: number }>(opts: PairingStoreOptions, spec: PairingStoreSpec<P, Q>): Promise<PairingState<P, Q>> {
    return PairingState.open<P, Q>({
      dir: join(opts.stateDir, spec.subdir),
      label: spec.label,
      sanitizePaired: spec.sanitizePaired,
      sanitizePending: spec.sanitizePending,
      now: opts.now ?? Date.now,
      pendingTtlMs: opts.pendingTtlMs ?? spec.defaultPendingTtlMs,
      pruneIntervalMs: opts.pruneIntervalMs ?? 60_000,
      lazyPersistMs: opts.lazyPersistMs ?? spec.defaultLazyPersistMs,
      ...(opts.onWarning !== undefined ? { onWarning: opts.onWarning } : {}),
    });
  }

  /** True once `close` has begun: mutations are refused and nothing more is scheduled. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Persist runs started so far (each writes whichever file is dirty); for tests and metrics. */
  get writeCount(): number {
    return this.#queue.runs;
  }

  /** Generation of the latest real (non-lazy) mutation; see `durable` / `flushTo`. */
  get generation(): number {
    return this.#queue.generation;
  }

  /** True once the state as of generation `gen` is on disk. */
  durable(gen: number): boolean {
    return this.#queue.durable(gen);
  }

  /**
   * Group commit: resolves with the first completed write that covers generation `gen`
   * (every caller waiting on the same write is released by it); rejects with
   * `GW_ERR_STORE_WRITE_FAILED` when that write fails.
   */
  flushTo(gen: number): Promise<void> {
    return this.#queue.flushTo(gen);
  }

  /** Throws `GW_ERR_SERVER_SHUTTING_DOWN` once closed. */
  assertOpen(): void {
    if (this.#closed) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", `${this.#opts.label} store is closed`);
  }

  /** Told about each pending request dropped by expiry (a replicator drops its shared copy). Default: none. */
  onExpired: ((requestId: string) => void) | undefined;

  /** Drops expired pending requests. */
  prune(): void {
    const cutoff = this.now() - this.#opts.pendingTtlMs;
    for (const [id, p] of this.pending) {
      if (p.ts <= cutoff) {
        this.pending.delete(id);
        this.markPending();
        this.onExpired?.(id);
      }
    }
  }

  /** Removes and returns an unexpired pending request. Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`. */
  takePending(requestId: string): Q {
    this.prune();
    const req = this.pending.get(requestId);
    if (req === undefined) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_REQUEST", "unknown requestId", { requestId });
    this.pending.delete(requestId);
    this.markPending();
    return req;
  }

  /**
   * The paired record `key` (every record when omitted) changed in memory: it is written with
   * the next write. Callers MUST name every record they mutate in place — its serialised text
   * is cached until then (see `#serializePaired`).
   */
  // After close nothing is scheduled any more: a late write must not recreate a removed state dir.
  markPaired(key?: string): void {
    this.#invalidate(key);
    this.#pairedDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  /**
   * Another gateway's state of paired record `key` (`undefined`: removed): replaces the local
   * copy in memory and on disk (the next write), never replicated back. Ignored once closed.
   */
  applyRemotePaired(key: string, record: P | undefined): void {
    if (this.#closed) return;
    if (record === undefined) this.paired.delete(key);
    else this.paired.set(key, structuredClone(record));
    this.markPaired(key);
  }

  /** Another gateway's pending request (`undefined`: resolved there), as `applyRemotePaired`. */
  applyRemotePending(requestId: string, request: Q | undefined): void {
    if (this.#closed) return;
    if (request === undefined) {
      if (!this.pending.delete(requestId)) return;
    } else {
      this.pending.set(requestId, structuredClone(request));
    }
    this.markPending();
  }

  /** Metadata-only change of record `key` (all when omitted): written with the next real mutation, a flush, or after `lazyPersistMs`. */
  markPairedLazy(key?: string): void {
    this.#invalidate(key);
    this.#pairedDirty = true;
    if (this.#closed || this.#lazyTimer !== null) return;
    this.#lazyTimer = setTimeout(() => {
      this.#lazyTimer = null;
      if (!this.#closed) this.#queue.schedule();
    }, this.#opts.lazyPersistMs);
    this.#lazyTimer.unref();
  }

  markPending(): void {
    this.#pendingDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  /** Resolves when the current state (lazy changes included) is on disk; rejects with `GW_ERR_STORE_WRITE_FAILED`. */
  flush(): Promise<void> {
    this.#scheduleLazyNow();
    return this.#queue.flush();
  }

  /** Refuses further mutations, stops the timers and flushes. */
  async close(): Promise<void> {
    this.#scheduleLazyNow();
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    try {
      await this.#queue.flush();
    } finally {
      this.#queue.stop();
    }
  }

  warn(message: string, details: Record<string, unknown>): void {
    this.#opts.onWarning?.(message, details);
  }

  #scheduleLazyNow(): void {
    if (this.#lazyTimer === null) return;
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = null;
    if (!this.#closed) this.#queue.schedule();
  }

  #invalidate(key: string | undefined): void {
    if (key === undefined) this.#pairedText.clear();
    else this.#pairedText.delete(key);
  }

  /**
   * paired.json, byte for byte what `JSON.stringify(Object.fromEntries(paired), null, 2)` gives
   * (up to the order of integer-like keys), built from per-record texts cached until the record
   * is marked: a write after one new device serialises one record, not the whole fleet. Every
   * write is a full snapshot; at 2,000 devices this cut the main-thread cost of a write from
   * ~35 ms to ~1 ms, which group commit makes part of every new device's handshake latency.
   */
  #serializePaired(): string {
    if (this.paired.size === 0) return "{}\n";
    const parts: string[] = [];
    const texts = new Map<string, string>();
    for (const [k, v] of this.paired) {
      const t = this.#pairedText.get(k) ?? `  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replaceAll("\n", "\n  ")}`;
      texts.set(k, t);
      parts.push(t);
    }
    this.#pairedText = texts; // drops texts of removed records
    return `{\n${parts.join(",\n")}\n}\n`;
  }

  async #persist(): Promise<void> {
    // Both snapshots are taken now, before any await; paired.json goes first (see the header).
    const paired = this.#pairedDirty ? this.#serializePaired() : undefined;
    let pending = this.#pendingDirty ? serialize(this.pending) : undefined;
    if (pending !== undefined && pending === this.#pendingOnDisk) pending = undefined;
    this.#pairedDirty = false;
    this.#pendingDirty = false;
    try {
      if (paired !== undefined) await writeFileAtomic(this.pairedPath, paired);
    } catch (err) {
      this.#pairedDirty = true;
      this.#pendingDirty ||= pending !== undefined;
      throw err;
    }
    try {
      if (pending !== undefined) {
        await writeFileAtomic(this.pendingPath, pending);
        this.#pendingOnDisk = pending;
      }
    } catch (err) {
      this.#pendingDirty = true;
      throw err;
    }
  }
}
