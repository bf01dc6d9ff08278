/**
 * Legacy node pairing store: `<stateDir>/nodes/pending.json` and `<stateDir>/nodes/paired.json`
 * (protocol reference §3.11 `node.pair.*`, §2.9 `lastConnectedAtMs`).
 *
 * Same discipline as the device pairing store:
 * - Files are read once (`open`); memory is the source of truth afterwards, so RPCs and node
 *   connects never wait for disk.
 * - Mutations are synchronous on the maps (one JS thread ⇒ serialised) and persisted
 *   write-behind by one `WriteBehindQueue` (atomic tmp+fsync+rename, 0600). paired.json is
 *   written before pending.json, so a crash can leave an approved request still pending
 *   (approving it again just re-issues), never an approval that vanished with its request.
 * - `flush()` resolves once the current state is on disk: handlers await it before
 *   acknowledging (persist before ack).
 * - `lastConnectedAtMs` is metadata: it is written lazily (after `lazyPersistMs`, or with the
 *   next real mutation / flush) so that a reconnect storm of paired nodes is one write.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { GatewayError } from "../errors.js";
import { writeFileAtomic } from "./atomic-json.js";
import { WriteBehindQueue } from "./write-behind.js";
import { loadRecordFile } from "./device-pairing-files.js";
import { deviceTokenEquals, mintDeviceToken } from "./device-tokens.js";
import { sanitizePairedNode, sanitizePendingNodeRequest } from "./node-pairing-files.js";
import { NODE_PAIRING_LAZY_PERSIST_MS, NODE_PAIRING_PENDING_TTL_MS } from "./node-pairing-types.js";
import type { NodeMetadata, NodePairingRequestInput, NodePairingStoreOptions, PairedNode, PendingNodeRequest } from "./node-pairing-types.js";

const METADATA_KEYS = [
  "displayName",
  "platform",
  "version",
  "coreVersion",
  "uiVersion",
  "deviceFamily",
  "modelIdentifier",
  "caps",
  "commands",
  "permissions",
  "remoteIp",
] as const satisfies readonly (keyof NodeMetadata)[];

const clone = <T>(v: T): T => structuredClone(v);

const serialize = (records: Map<string, unknown>): string => `${JSON.stringify(Object.fromEntries(records), null, 2)}\n`;

function copyMetadata(target: NodeMetadata, src: NodeMetadata): void {
  for (const k of METADATA_KEYS) {
    const v = src[k];
    if (v !== undefined) (target as Record<string, unknown>)[k] = clone(v);
  }
}

/** In-memory legacy node pairing state with write-behind persistence. Create with `NodePairingStore.open`. */
export class NodePairingStore {
  readonly pairedPath: string;
  readonly pendingPath: string;
  readonly #paired = new Map<string, PairedNode>();
  readonly #pending = new Map<string, PendingNodeRequest>();
  readonly #opts: NodePairingStoreOptions;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #queue: WriteBehindQueue;
  readonly #pruneTimer: NodeJS.Timeout;
  #lazyTimer: NodeJS.Timeout | null = null;
  #pairedDirty = false;
  #pendingDirty = false;
  #closed = false;

  private constructor(opts: NodePairingStoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#ttl = opts.pendingTtlMs ?? NODE_PAIRING_PENDING_TTL_MS;
    this.pairedPath = join(opts.stateDir, "nodes", "paired.json");
    this.pendingPath = join(opts.stateDir, "nodes", "pending.json");
    this.#queue = new WriteBehindQueue(() => this.#persist(), {
      onError: (err) => this.#opts.onWarning?.("node pairing state could not be written; retrying", { error: String(err) }),
    });
    this.#pruneTimer = setInterval(() => this.#prune(), opts.pruneIntervalMs ?? 60_000);
    this.#pruneTimer.unref();
  }

  /** Loads both files (missing → empty, corrupt → quarantined + empty) and starts the prune timer. */
  static async open(opts: NodePairingStoreOptions): Promise<NodePairingStore> {
    const store = new NodePairingStore(opts);
    const warn = (message: string, details: Record<string, unknown>): void => opts.onWarning?.(message, details);
    try {
      for (const [k, v] of await loadRecordFile(store.pairedPath, sanitizePairedNode, warn)) store.#paired.set(k, v);
      for (const [k, v] of await loadRecordFile(store.pendingPath, sanitizePendingNodeRequest, warn)) store.#pending.set(k, v);
    } catch (err) {
      clearInterval(store.#pruneTimer);
      throw err;
    }
    store.#prune();
    return store;
  }

  // ---- reads (memory only) ----

  /** The paired record (a copy), or undefined. */
  getPaired(nodeId: string): PairedNode | undefined {
    const n = this.#paired.get(nodeId.trim());
    return n === undefined ? undefined : clone(n);
  }

  /** Unexpired pending requests, newest first. */
  listPending(): PendingNodeRequest[] {
    this.#prune();
    return [...this.#pending.values()].sort((a, b) => b.ts - a.ts).map(clone);
  }

  /** Paired nodes (with tokens), most recently approved first. */
  listPaired(): PairedNode[] {
    return [...this.#paired.values()].sort((a, b) => b.approvedAtMs - a.approvedAtMs).map(clone);
  }

  // ---- mutations ----

  /**
   * `node.pair.request`: the unexpired pending request of the node unchanged (`created:false`),
   * or a new one. Never returns a token.
   */
  request(input: NodePairingRequestInput): { status: "pending"; request: PendingNodeRequest; created: boolean } {
    this.#assertOpen();
    this.#prune();
    const nodeId = input.nodeId.trim();
    if (nodeId === "") throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "nodeId required");
    for (const p of this.#pending.values()) {
      if (p.nodeId === nodeId) return { status: "pending", request: clone(p), created: false };
    }
    const meta: NodeMetadata = {};
    copyMetadata(meta, input);
    // Key order as the reference writes it: ids, metadata, silent, isRepair, ts.
    const req: PendingNodeRequest = {
      requestId: randomUUID(),
      nodeId,
      ...meta,
      ...(input.silent !== undefined ? { silent: input.silent } : {}),
      isRepair: this.#paired.has(nodeId),
      ts: this.#now(),
    };
    this.#pending.set(req.requestId, req);
    this.#markPending();
    return { status: "pending", request: clone(req), created: true };
  }

  /**
   * `node.pair.approve`: moves the request into paired.json with a fresh token (metadata of the
   * request wins over the previous record). Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`.
   */
  approve(requestId: string): { requestId: string; node: PairedNode } {
    this.#assertOpen();
    const req = this.#takePending(requestId);
    const now = this.#now();
    const prev = this.#paired.get(req.nodeId);
    const node: PairedNode = { nodeId: req.nodeId, token: mintDeviceToken(), createdAtMs: prev?.createdAtMs ?? now, approvedAtMs: now };
    if (prev) copyMetadata(node, prev);
    copyMetadata(node, req);
    if (prev?.bins !== undefined) node.bins = [...prev.bins];
    if (prev?.lastConnectedAtMs !== undefined) node.lastConnectedAtMs = prev.lastConnectedAtMs;
    this.#paired.set(node.nodeId, node);
    this.#markPaired();
    return { requestId, node: clone(node) };
  }

  /** `node.pair.reject`: drops the request. Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`. */
  reject(requestId: string): { requestId: string; nodeId: string } {
    this.#assertOpen();
    const req = this.#takePending(requestId);
    return { requestId, nodeId: req.nodeId };
  }

  /** `node.pair.verify`: constant-time token check. */
  verify(nodeId: string, token: string): { ok: true; node: PairedNode } | { ok: false } {
    const node = this.#paired.get(nodeId.trim());
    if (node === undefined || !deviceTokenEquals(node.token, token)) return { ok: false };
    return { ok: true, node: clone(node) };
  }

  /** `node.rename`: sets the display name of a paired node; undefined when unknown. */
  rename(nodeId: string, displayName: string): PairedNode | undefined {
    this.#assertOpen();
    const node = this.#paired.get(nodeId.trim());
    if (node === undefined) return undefined;
    node.displayName = displayName;
    this.#markPaired();
    return clone(node);
  }

  /**
   * Records a node connect (§2.9) on a paired record; false when `nodeId` is not paired here.
   * Persisted lazily (see `NODE_PAIRING_LAZY_PERSIST_MS`).
   */
  touchConnected(nodeId: string, atMs: number): boolean {
    if (this.#closed) return false;
    const node = this.#paired.get(nodeId.trim());
    if (node === undefined) return false;
    node.lastConnectedAtMs = atMs;
    this.#pairedDirty = true;
    if (this.#lazyTimer === null) {
      this.#lazyTimer = setTimeout(() => {
        this.#lazyTimer = null;
        if (!this.#closed) this.#queue.schedule();
      }, this.#opts.lazyPersistMs ?? NODE_PAIRING_LAZY_PERSIST_MS);
      this.#lazyTimer.unref();
    }
    return true;
  }

  // ---- lifecycle ----

  /** Persist runs started so far (tests and metrics). */
  get writeCount(): number {
    return this.#queue.runs;
  }

  /** Resolves when the current state (lazy metadata included) is on disk; rejects with `GW_ERR_STORE_WRITE_FAILED`. */
  flush(): Promise<void> {
    if (this.#lazyTimer !== null) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
      this.#queue.schedule();
    }
    return this.#queue.flush();
  }

  /** Flushes and stops the timers. Later mutations throw `GW_ERR_SERVER_SHUTTING_DOWN`. */
  async close(): Promise<void> {
    clearInterval(this.#pruneTimer);
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#queue.stop();
    }
  }

  // ---- internals ----

  #takePending(requestId: string): PendingNodeRequest {
    this.#prune();
    const req = this.#pending.get(requestId);
    if (req === undefined) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_REQUEST", "unknown requestId", { requestId });
    this.#pending.delete(requestId);
    this.#markPending();
    return req;
  }

  #prune(): void {
    const cutoff = this.#now() - this.#ttl;
    for (const [id, p] of this.#pending) {
      if (p.ts <= cutoff) {
        this.#pending.delete(id);
        this.#markPending();
      }
    }
  }

  #markPaired(): void {
    this.#pairedDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  #markPending(): void {
    this.#pendingDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  async #persist(): Promise<void> {
    // Snapshots are taken before any await; paired.json goes first (see the header).
    const paired = this.#pairedDirty ? serialize(this.#paired) : undefined;
    const pending = this.#pendingDirty ? serialize(this.#pending) : undefined;
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
      if (pending !== undefined) await writeFileAtomic(this.pendingPath, pending);
    } catch (err) {
      this.#pendingDirty = true;
      throw err;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "node pairing store is closed");
  }
}
