/**
 * Records of several kinds (paired devices, pending requests, paired nodes…) shared through
 * one JetStream KV bucket, one key per record (`<kind>.<base64url id>`), with each gateway's
 * store as a cache fed by a watch of the whole bucket.
 *
 * Writes (the local store changed a record):
 * - are serialised per key and conditional on the revision this gateway last saw
 *   (`create` when it saw none, `update(rev)` otherwise), so two gateways writing the same
 *   record never silently overwrite each other: the loser re-reads the record, merges its
 *   change into the newer shared state (`RecordKind.merge`), applies the merge locally and
 *   tries again (a few times, then GW_ERR_CLUSTER_CONFLICT);
 * - answer GW_ERR_CLUSTER_UNAVAILABLE (retryable) at once while the broker is down, and
 *   after `writeTimeoutMs` without an acknowledgement; a failed write puts the local record
 *   back to the last shared state, so nothing that was refused stays usable here.
 *   A write that timed out but landed arrives through the watch later and wins.
 * - "lazy" writes (metadata) are best-effort: skipped while disconnected, errors logged.
 *
 * The watch (restarted at every broker reconnect, from scratch) applies every entry newer
 * than the revision seen for its key; entries this gateway wrote itself are skipped that way.
 * At each connect, records the local store has and the bucket lacks are created (a gateway
 * joining with existing state, or a broker that lost its store); a record the bucket has
 * always wins over the local copy.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import type { ClusterConnection } from "./cluster-connection.js";
import { clusterUnavailable, isWrongRevision, recordKey, withTimeout } from "./kv-helpers.js";

/** One kind of record in the bucket. */
export interface RecordKind<T> {
  /** First key token, e.g. "device" (letters only). */
  readonly prefix: string;
  /** Turns an untrusted value read from the bucket into a record, or undefined to ignore it. */
  sanitize(id: string, raw: unknown): T | undefined;
  /** Puts another gateway's state (or the last shared state after a failed write) into the local store. */
  apply(id: string, value: T | undefined, before: T | undefined): void;
  /** The local copy of a record (merge base and seeding). */
  local(id: string): T | undefined;
  /** Local records, offered to the bucket when it lacks them. */
  seed?(): Iterable<[string, T]>;
  /**
   * Folds a local change (`mine`, made from the shared state `base`) into a newer shared
   * state `theirs`. Without it the local change wins whole.
   */
  merge?(mine: T, base: T | undefined, theirs: T): T;
}

/** Options of `KvRecords`. */
export interface KvRecordsOptions {
  /** Bucket name (cluster-subjects.ts). */
  bucket: string;
  /** Without an acknowledgement after this long a write fails UNAVAILABLE (ms). */
  writeTimeoutMs: number;
  /** Revisions kept per key. Default 1. */
  history?: number;
}

/** Attempts of one write against concurrent writers before GW_ERR_CLUSTER_CONFLICT. */
const MAX_ATTEMPTS = 5;

const encoder = new TextEncoder();

function parseKey(key: string): { prefix: string; id: string } | undefined {
  const dot = key.indexOf(".");
  if (dot <= 0) return undefined;
  return { prefix: key.slice(0, dot), id: Buffer.from(key.slice(dot + 1), "base64url").toString("utf8") };
}

/** One bucket of shared records and its watch. */
export class KvRecords {
  readonly #kinds = new Map<string, RecordKind<unknown>>();
  /** Key → revision and value last seen in the bucket (0/undefined: none). */
  readonly #seen = new Map<string, { rev: number; value: unknown }>();
  /** Key → tail of its write chain. */
  readonly #tails = new Map<string, Promise<void>>();
  /**
   * Key → text this gateway is writing: the watch may deliver our own write before its
   * acknowledgement, and applying it again would cost a second local write for nothing.
   */
  readonly #writing = new Map<string, string>();
  #kv: KV | null = null;
  /** The bucket was open once: from then on a write while disconnected is refused at once. */
  #opened = false;
  #openedNow: () => void = () => undefined;
  readonly #firstOpen = new Promise<void>((resolve) => {
    this.#openedNow = resolve;
  });
  #stopWatch: (() => void) | null = null;
  #closed = false;
  /** Set when the first watch delivered the bucket's state (tests, health). */
  #synced = false;
  readonly #syncedWaiters: (() => void)[] = [];

  constructor(
    private readonly connection: ClusterConnection,
    private readonly opts: KvRecordsOptions,
    private readonly log: Logger,
  ) {}

  /** Adds a kind; call before `start`. */
  register<T>(kind: RecordKind<T>): void {
    this.#kinds.set(kind.prefix, kind as RecordKind<unknown>);
  }

  /** Opens the bucket and watches it at every (re)connect. */
  start(): void {
    this.connection.onConnected(async (h) => {
      if (this.#closed) return;
      this.#stopWatch?.();
      this.#stopWatch = null;
      // Revisions seen before are not trusted across a reconnect: a broker that lost its
      // store numbers keys from 1 again, and newer entries must not look old. The watch
      // below delivers every key again (applying an unchanged record is harmless).
      this.#seen.clear();
      this.#synced = false;
      const kv = await h.kvm.create(this.opts.bucket, { history: this.opts.history ?? 1 });
      this.#kv = kv;
      this.#opened = true;
      this.#openedNow();
      await this.#seed(kv);
      await this.#watch(kv);
    });
  }

  /** True once the bucket's state was loaded at least once. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves once the bucket's state was loaded (or at once when it was). */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  /**
   * Shares a change of record `id`. "ack": a promise settled once the bucket holds it (or
   * rejected; the local copy is then put back). "lazy": best-effort, returns undefined.
   */
  write<T>(kind: RecordKind<T>, id: string, value: T | undefined, mode: "ack" | "lazy"): Promise<void> | undefined {
    const key = recordKey(kind.prefix, id);
    if (mode === "lazy") {
      if (!this.connection.available() || this.#kv === null) return undefined;
      void this.#enqueue(key, () => this.#write(kind, id, key, value)).catch((err: unknown) =>
        this.log.debug({ key, err: String(err) }, "cluster: best-effort shared record update failed"),
      );
      return undefined;
    }
    if (!this.connection.available() || this.#kv === null) {
      // Just started and not yet connected: wait for the bucket (bounded) rather than refuse
      // the first pairings of a gateway whose broker is a few milliseconds away.
      if (this.#opened) {
        this.#revert(kind, id, key);
        return Promise.reject(clusterUnavailable(`${kind.prefix} ${id}`));
      }
      return withTimeout(this.#firstOpen, this.opts.writeTimeoutMs, `${kind.prefix} ${id}`)
        .then(() => this.#enqueue(key, () => this.#write(kind, id, key, value)))
        .catch((err: unknown) => {
          this.#revert(kind, id, key);
          throw err instanceof GatewayError ? err : clusterUnavailable(`${kind.prefix} ${id}`, err);
        });
    }
    return this.#enqueue(key, () => this.#write(kind, id, key, value)).catch((err: unknown) => {
      this.#revert(kind, id, key);
      throw err instanceof GatewayError ? err : clusterUnavailable(`${kind.prefix} ${id}`, err);
    });
  }

  /** Stops the watch (the connection itself is the cluster module's). */
  close(): void {
    this.#closed = true;
    this.#stopWatch?.();
    this.#stopWatch = null;
  }

  #enqueue(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  async #write<T>(kind: RecordKind<T>, id: string, key: string, value: T | undefined): Promise<void> {
    const what = `${kind.prefix} ${id}`;
    let mine = value;
    let base = this.#seen.get(key)?.value as T | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const kv = this.#kv;
      if (kv === null || !this.connection.available()) throw clusterUnavailable(what);
      const rev = this.#seen.get(key)?.rev ?? 0;
      try {
        let newRev: number;
        if (mine === undefined) {
          if (rev === 0) return;
          await withTimeout(kv.delete(key, { previousSeq: rev }), this.opts.writeTimeoutMs, what);
          newRev = rev + 1; // a lower bound: the watch delivers the real one, which is newer
        } else {
          const text = JSON.stringify(mine);
          const data = encoder.encode(text);
          this.#writing.set(key, text);
          try {
            newRev = await withTimeout(rev === 0 ? kv.create(key, data) : kv.update(key, data, rev), this.opts.writeTimeoutMs, what);
          } finally {
            this.#writing.delete(key);
          }
        }
        this.#noteSeen(key, newRev, mine);
        return;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
      }
      // Someone else wrote it first: fold this change into theirs.
      const entry = await withTimeout(kv.get(key), this.opts.writeTimeoutMs, what);
      const theirs = this.#valueOf(kind, id, entry);
      const before = kind.local(id);
      this.#seen.set(key, { rev: entry?.revision ?? 0, value: theirs });
      if (mine !== undefined && theirs !== undefined) mine = kind.merge ? kind.merge(mine, base, theirs) : mine;
      base = theirs;
      kind.apply(id, mine, before);
    }
    throw new GatewayError("GW_ERR_CLUSTER_CONFLICT", `${what}: concurrent changes on other gateways kept winning; retry`);
  }

  #noteSeen(key: string, rev: number, value: unknown): void {
    const cur = this.#seen.get(key);
    if (cur === undefined || cur.rev < rev) this.#seen.set(key, { rev, value });
  }

  #revert<T>(kind: RecordKind<T>, id: string, key: string): void {
    const seen = this.#seen.get(key);
    // Nothing seen for the key is "absent" only once the bucket was read; before that keep the cache.
    if (seen === undefined && !this.#synced) return;
    kind.apply(id, seen?.value as T | undefined, kind.local(id));
  }

  #valueOf<T>(kind: RecordKind<T>, id: string, entry: KvEntry | null): T | undefined {
    if (entry === null || entry.operation !== "PUT") return undefined;
    try {
      return kind.sanitize(id, entry.json<unknown>());
    } catch {
      return undefined;
    }
  }

  async #seed(kv: KV): Promise<void> {
    const present = new Set<string>();
    for await (const k of await kv.keys()) present.add(k);
    for (const kind of this.#kinds.values()) {
      for (const [id, value] of kind.seed?.() ?? []) {
        const key = recordKey(kind.prefix, id);
        if (present.has(key)) continue;
        try {
          const rev = await kv.create(key, encoder.encode(JSON.stringify(value)));
          this.#noteSeen(key, rev, value);
        } catch (err) {
          if (!isWrongRevision(err)) throw err;
        }
      }
    }
  }

  async #watch(kv: KV): Promise<void> {
    const status = await kv.status();
    const initial = status.values;
    const iter = await kv.watch({ key: ">" });
    this.#stopWatch = () => iter.stop();
    let delivered = 0;
    if (initial === 0) this.#markSynced();
    void (async () => {
      for await (const e of iter) {
        this.#onEntry(e);
        delivered += 1;
        if (!this.#synced && (e.isUpdate || delivered >= initial)) this.#markSynced();
      }
    })().catch((err: unknown) => this.log.warn({ bucket: this.opts.bucket, err: String(err) }, "cluster: shared records watch ended"));
  }

  #markSynced(): void {
    this.#synced = true;
    for (const w of this.#syncedWaiters.splice(0)) w();
  }

  #onEntry(e: KvEntry): void {
    const parsed = parseKey(e.key);
    if (parsed === undefined) return;
    const kind = this.#kinds.get(parsed.prefix);
    if (kind === undefined) return;
    const seen = this.#seen.get(e.key);
    if (seen !== undefined && seen.rev >= e.revision) return;
    const value = this.#valueOf(kind, parsed.id, e);
    this.#seen.set(e.key, { rev: e.revision, value });
    if (e.operation === "PUT" && this.#writing.get(e.key) === e.string()) return;
    try {
      kind.apply(parsed.id, value, kind.local(parsed.id));
    } catch (err) {
      this.log.warn({ key: e.key, err: String(err) }, "cluster: applying a shared record failed");
    }
  }
}
