/**
 * Legacy node pairing store: `<stateDir>/nodes/pending.json` and `<stateDir>/nodes/paired.json`
 * (protocol reference §3.11 `node.pair.*`, §2.9 `lastConnectedAtMs`).
 *
 * Persistence, expiry and crash safety are `PairingState`'s (pairing-state.ts): memory is the
 * source of truth after `open`, mutations are written behind (paired.json before pending.json),
 * and `flush()` resolves once the current state is on disk — handlers await it before
 * acknowledging. `lastConnectedAtMs` is metadata, written lazily so that a reconnect storm of
 * paired nodes is one write. With a replicator (`setReplicator`, the cluster's shared bucket)
 * `flush()` also waits for the shared store's acknowledgement of every mutation, and other
 * gateways' changes arrive through `applyRemotePaired`/`applyRemotePending`
 * (pairing-replicator.ts).
 */
import { randomUUID } from "node:crypto";
import { GatewayError } from "../errors.js";
import { PairingState } from "./pairing-state.js";
import { ReplicationTracker, type PairingReplicator } from "./pairing-replicator.js";
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

function copyMetadata(target: NodeMetadata, src: NodeMetadata): void {
  for (const k of METADATA_KEYS) {
    const v = src[k];
    if (v !== undefined) (target as Record<string, unknown>)[k] = clone(v);
  }
}

/** In-memory legacy node pairing state with write-behind persistence. Create with `NodePairingStore.open`. */
export class NodePairingStore {
  readonly #state: PairingState<PairedNode, PendingNodeRequest>;
  readonly #paired: Map<string, PairedNode>;
  readonly #pending: Map<string, PendingNodeRequest>;
  readonly #now: () => number;
  #replicator: PairingReplicator<PairedNode, PendingNodeRequest> | undefined;
  /** Replications not yet acknowledged, per node id. */
  readonly #replication = new ReplicationTracker();

  private constructor(state: PairingState<PairedNode, PendingNodeRequest>) {
    this.#state = state;
    this.#paired = state.paired;
    this.#pending = state.pending;
    this.#now = state.now;
  }

  /** Loads both files (missing → empty, corrupt → quarantined + empty) and starts the prune timer. */
  static async open(opts: NodePairingStoreOptions): Promise<NodePairingStore> {
    const state = await PairingState.openStore<PairedNode, PendingNodeRequest>(opts, {
      subdir: "nodes",
      label: "node pairing",
      sanitizePaired: sanitizePairedNode,
      sanitizePending: sanitizePendingNodeRequest,
      defaultPendingTtlMs: NODE_PAIRING_PENDING_TTL_MS,
      defaultLazyPersistMs: NODE_PAIRING_LAZY_PERSIST_MS,
    });
    return new NodePairingStore(state);
  }

  get pairedPath(): string {
    return this.#state.pairedPath;
  }

  get pendingPath(): string {
    return this.#state.pendingPath;
  }

  // ---- reads (memory only) ----

  /** The paired record (a copy), or undefined. */
  getPaired(nodeId: string): PairedNode | undefined {
    const n = this.#paired.get(nodeId.trim());
    return n === undefined ? undefined : clone(n);
  }

  /** Unexpired pending requests, newest first. */
  listPending(): PendingNodeRequest[] {
    this.#state.prune();
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
    this.#state.assertOpen();
    this.#state.prune();
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
    this.#state.markPending();
    this.#replicatePending(nodeId, req.requestId, req);
    return { status: "pending", request: clone(req), created: true };
  }

  /**
   * `node.pair.approve`: moves the request into paired.json with a fresh token (metadata of the
   * request wins over the previous record). Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`.
   */
  approve(requestId: string): { requestId: string; node: PairedNode } {
    this.#state.assertOpen();
    const req = this.#state.takePending(requestId);
    this.#replicatePending(req.nodeId, requestId, undefined);
    const now = this.#now();
    const prev = this.#paired.get(req.nodeId);
    const node: PairedNode = { nodeId: req.nodeId, token: mintDeviceToken(), createdAtMs: prev?.createdAtMs ?? now, approvedAtMs: now };
    if (prev) copyMetadata(node, prev);
    copyMetadata(node, req);
    if (prev?.bins !== undefined) node.bins = [...prev.bins];
    if (prev?.lastConnectedAtMs !== undefined) node.lastConnectedAtMs = prev.lastConnectedAtMs;
    this.#paired.set(node.nodeId, node);
    this.#markPaired(node.nodeId);
    return { requestId, node: clone(node) };
  }

  /** `node.pair.reject`: drops the request. Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`. */
  reject(requestId: string): { requestId: string; nodeId: string } {
    this.#state.assertOpen();
    const req = this.#state.takePending(requestId);
    this.#replicatePending(req.nodeId, requestId, undefined);
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
    this.#state.assertOpen();
    const node = this.#paired.get(nodeId.trim());
    if (node === undefined) return undefined;
    node.displayName = displayName;
    this.#markPaired(node.nodeId);
    return clone(node);
  }

  /**
   * Records a node connect (§2.9) on a paired record; false when `nodeId` is not paired here.
   * Persisted lazily (see `NODE_PAIRING_LAZY_PERSIST_MS`).
   */
  touchConnected(nodeId: string, atMs: number): boolean {
    if (this.#state.closed) return false;
    const node = this.#paired.get(nodeId.trim());
    if (node === undefined) return false;
    node.lastConnectedAtMs = atMs;
    this.#state.markPairedLazy(node.nodeId);
    return true;
  }

  // ---- lifecycle ----

  /** Persist runs started so far (tests and metrics). */
  get writeCount(): number {
    return this.#state.writeCount;
  }

  /** Resolves when the current state (lazy metadata included) is on disk; rejects with `GW_ERR_STORE_WRITE_FAILED`. */
  flush(): Promise<void> {
    const disk = this.#state.flush();
    return this.#replicator === undefined ? disk : Promise.all([disk, this.#replication.all()]).then(() => undefined);
  }

  // ---- shared state (cluster) ----

  /** Shares every later mutation through `replicator` (see pairing-replicator.ts). Set once, before serving. */
  setReplicator(replicator: PairingReplicator<PairedNode, PendingNodeRequest>): void {
    this.#replicator = replicator;
    // Every gateway prunes by the request's own timestamp; the shared copy goes best-effort.
    this.#state.onExpired = (requestId) => void replicator.pending(requestId, undefined, "lazy");
  }

  /** Another gateway's state of a paired node (`undefined`: removed), in memory and on disk, not replicated back. */
  applyRemotePaired(nodeId: string, record: PairedNode | undefined): void {
    this.#state.applyRemotePaired(nodeId, record);
  }

  /** Another gateway's pending request (`undefined`: resolved there), as `applyRemotePaired`. */
  applyRemotePending(requestId: string, request: PendingNodeRequest | undefined): void {
    this.#state.applyRemotePending(requestId, request);
  }

  #markPaired(nodeId: string): void {
    this.#state.markPaired(nodeId);
    if (this.#replicator === undefined) return;
    const n = this.#paired.get(nodeId);
    this.#replication.track(nodeId, this.#replicator.paired(nodeId, n === undefined ? undefined : clone(n), "ack"));
  }

  #replicatePending(nodeId: string, requestId: string, req: PendingNodeRequest | undefined): void {
    if (this.#replicator === undefined) return;
    this.#replication.track(nodeId, this.#replicator.pending(requestId, req === undefined ? undefined : clone(req)));
  }

  /** Flushes and stops the timers. Later mutations throw `GW_ERR_SERVER_SHUTTING_DOWN`. */
  close(): Promise<void> {
    return this.#state.close();
  }
}
