/**
 * Device pairing store: `<stateDir>/devices/pending.json` and `<stateDir>/devices/paired.json`
 * (protocol reference §2.7, §3.11 `device.*`).
 *
 * Invariants:
 * - The files are read once (`open`); afterwards memory is the source of truth and every read
 *   is served from it, so a handshake never waits for disk. External edits made while the
 *   gateway runs are overwritten by the next write.
 * - Persistence is `PairingState`'s (pairing-state.ts): write-behind, paired.json before
 *   pending.json, bursts coalesced. `flush()` resolves once the current state is on disk — RPC
 *   handlers that acknowledge a mutation await it first (persist before ack).
 * - No auth state is cached outside these maps: a rotated or revoked token is effective for the
 *   very next `verifyDeviceToken`.
 * - With a replicator (`setReplicator`, the cluster's shared bucket) every real mutation is
 *   also acknowledged by the shared store before `durableBarrier`/`flush` resolve, and what
 *   other gateways wrote arrives through `applyRemotePaired`/`applyRemotePending`
 *   (pairing-replicator.ts).
 * - Corrupt files are moved aside to `<file>.corrupt-<ms>` and the store starts empty for that
 *   file (reported through `onWarning`): failing closed (devices re-pair; shared-token auth still
 *   works) keeps the gateway reachable, and the bad file is kept for inspection.
 */
import { randomUUID } from "node:crypto";
import { GatewayError } from "../errors.js";
import { PairingState } from "./pairing-state.js";
import { UnsyncedRecords } from "./unsynced-records.js";
import { ReplicationTracker, bothBarriers, type PairingReplicator, type ReplicationMode } from "./pairing-replicator.js";
import { sanitizePairedDevice, sanitizePendingRequest } from "./device-pairing-files.js";
import {
  DEVICE_PAIRING_LAZY_PERSIST_MS,
  DEVICE_PAIRING_PENDING_TTL_MS,
  firstUncoveredScope,
  mergeRoles,
  normalizeScopes,
} from "./device-pairing-types.js";
import type {
  DeviceAuthToken,
  DeviceMetadataPatch,
  DevicePairingStoreOptions,
  DeviceTokenVerdict,
  PairedDevice,
  PairingRequestInput,
  PendingDeviceRequest,
  DevicePairEvent,
} from "./device-pairing-types.js";
import { checkDeviceToken, issueDeviceToken, reusableDeviceToken } from "./device-tokens.js";

const METADATA_KEYS = ["displayName", "platform", "clientId", "clientMode", "remoteIp"] as const;

const clone = <T>(v: T): T => structuredClone(v);

/** In-memory device pairing state with write-behind persistence. Create with `DevicePairingStore.open`. */
export class DevicePairingStore {
  readonly #state: PairingState<PairedDevice, PendingDeviceRequest>;
  readonly #paired: Map<string, PairedDevice>;
  readonly #pending: Map<string, PendingDeviceRequest>;
  readonly #opts: DevicePairingStoreOptions;
  readonly #now: () => number;
  /** Which devices have a change not yet on disk (see `durableBarrier`). */
  readonly #unsynced: UnsyncedRecords;
  #replicator: PairingReplicator<PairedDevice, PendingDeviceRequest> | undefined;
  /** Replications not yet acknowledged, per device id. */
  readonly #replication = new ReplicationTracker();

  private constructor(state: PairingState<PairedDevice, PendingDeviceRequest>, opts: DevicePairingStoreOptions) {
    this.#state = state;
    this.#paired = state.paired;
    this.#pending = state.pending;
    this.#opts = opts;
    this.#now = state.now;
    this.#unsynced = new UnsyncedRecords(state);
  }

  /** Loads both files (missing → empty, corrupt → quarantined + empty) and starts the prune timer. */
  static async open(opts: DevicePairingStoreOptions): Promise<DevicePairingStore> {
    const state = await PairingState.openStore<PairedDevice, PendingDeviceRequest>(opts, {
      subdir: "devices",
      label: "device pairing",
      sanitizePaired: sanitizePairedDevice,
      sanitizePending: sanitizePendingRequest,
      defaultPendingTtlMs: DEVICE_PAIRING_PENDING_TTL_MS,
      defaultLazyPersistMs: DEVICE_PAIRING_LAZY_PERSIST_MS,
    });
    return new DevicePairingStore(state, opts);
  }

  get pairedPath(): string {
    return this.#state.pairedPath;
  }

  get pendingPath(): string {
    return this.#state.pendingPath;
  }

  // ---- reads (memory only) ----

  /** The paired record (a copy), or undefined. */
  getPaired(deviceId: string): PairedDevice | undefined {
    const d = this.#paired.get(deviceId);
    return d === undefined ? undefined : clone(d);
  }

  /**
   * The paired record itself, NOT a copy: read it synchronously, never keep or mutate it.
   * For the handshake's pairing check, where a deep copy per connect was a measurable share
   * of a connect storm's CPU.
   */
  peekPaired(deviceId: string): Readonly<PairedDevice> | undefined {
    return this.#paired.get(deviceId);
  }

  /** Unexpired pending requests, newest first (expired ones are pruned). */
  listPending(): PendingDeviceRequest[] {
    this.#state.prune();
    return [...this.#pending.values()].sort((a, b) => b.ts - a.ts).map(clone);
  }

  /** Paired devices, most recently approved first. */
  listPaired(): PairedDevice[] {
    return [...this.#paired.values()].sort((a, b) => b.approvedAtMs - a.approvedAtMs).map(clone);
  }

  /**
   * Visits every paired record WITHOUT copying (read-only; do not keep or mutate it). For
   * scans over large fleets (`node.list` over 15k devices) where `listPaired`'s deep copies
   * would dominate.
   */
  forEachPaired(fn: (device: Readonly<PairedDevice>) => void): void {
    for (const d of this.#paired.values()) fn(d);
  }

  // ---- pairing ----

  /**
   * Creates the pending request for a device, or returns the existing unexpired one for the same
   * deviceId unchanged (it keeps its original `silent`, §13.1 #21). Emits `device.pair.requested`
   * only when a NON-silent request is created; the handshake approves silent ones itself.
   */
  requestPairing(input: PairingRequestInput): { request: PendingDeviceRequest; created: boolean } {
    this.#state.assertOpen();
    this.#state.prune();
    for (const p of this.#pending.values()) {
      if (p.deviceId === input.deviceId) return { request: clone(p), created: false };
    }
    const req: PendingDeviceRequest = {
      requestId: randomUUID(),
      deviceId: input.deviceId,
      publicKey: input.publicKey,
      role: input.role,
      roles: [input.role],
      scopes: normalizeScopes(input.scopes),
      silent: input.silent,
      isRepair: this.#paired.has(input.deviceId),
      ts: this.#now(),
    };
    for (const k of METADATA_KEYS) if (input[k] !== undefined) req[k] = input[k];
    this.#pending.set(req.requestId, req);
    this.#markPending(req.deviceId);
    // A silent request is approved by the same handshake turn: only its outcome is shared.
    if (!req.silent) this.#replicatePending(req.deviceId, req.requestId, req);
    if (!req.silent) this.#emit({ event: "device.pair.requested", payload: clone(req) });
    return { request: clone(req), created: true };
  }

  /**
   * Approves a pending request: merges its roles/scopes into the paired record (creating it),
   * mints a fresh token for the request's role and emits `device.pair.resolved` (approved).
   * Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST` for unknown or expired ids.
   */
  approve(requestId: string): { requestId: string; device: PairedDevice } {
    this.#state.assertOpen();
    const req = this.#state.takePending(requestId);
    this.#replicatePending(req.deviceId, requestId, undefined);
    const now = this.#now();
    const prev = this.#paired.get(req.deviceId);
    const device: PairedDevice = {
      deviceId: req.deviceId,
      publicKey: req.publicKey,
      role: req.role,
      roles: mergeRoles(prev?.roles, prev?.role, req.roles, req.role) ?? [req.role],
      scopes: normalizeScopes([...(prev?.scopes ?? []), ...req.scopes]),
      createdAtMs: prev?.createdAtMs ?? now,
      approvedAtMs: now,
    };
    for (const k of METADATA_KEYS) {
      const v = req[k] ?? prev?.[k];
      if (v !== undefined) device[k] = v;
    }
    if (prev?.tokens !== undefined) device.tokens = prev.tokens;
    issueDeviceToken(device, req.role, req.scopes, now);
    this.#paired.set(device.deviceId, device);
    this.#markPaired(device.deviceId);
    this.#emit({ event: "device.pair.resolved", payload: { requestId, deviceId: req.deviceId, decision: "approved", ts: now } });
    return { requestId, device: clone(device) };
  }

  /** Drops a pending request and emits `device.pair.resolved` (rejected). Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`. */
  reject(requestId: string): { requestId: string; deviceId: string } {
    this.#state.assertOpen();
    const req = this.#state.takePending(requestId);
    this.#replicatePending(req.deviceId, requestId, undefined);
    this.#emit({ event: "device.pair.resolved", payload: { requestId, deviceId: req.deviceId, decision: "rejected", ts: this.#now() } });
    return { requestId, deviceId: req.deviceId };
  }

  /** Refreshes metadata of a paired device after a successful connect. Returns false when not paired. */
  updateMetadata(deviceId: string, patch: DeviceMetadataPatch): boolean {
    this.#state.assertOpen();
    const d = this.#paired.get(deviceId);
    if (d === undefined) return false;
    let changed = false;
    for (const k of METADATA_KEYS) {
      const v = patch[k];
      if (v !== undefined && d[k] !== v) {
        d[k] = v;
        changed = true;
      }
    }
    if (patch.role !== undefined) {
      const roles = mergeRoles(d.roles, d.role, patch.role) ?? [];
      if (d.role !== patch.role || roles.join() !== (d.roles ?? []).join()) changed = true;
      d.role = patch.role;
      d.roles = roles;
    }
    if (patch.scopes !== undefined) {
      const scopes = normalizeScopes([...(d.scopes ?? []), ...patch.scopes]);
      if (scopes.join() !== (d.scopes ?? []).join()) changed = true;
      d.scopes = scopes;
    }
    if (changed) this.#markPaired(deviceId, "lazy");
    return true;
  }

  // ---- device tokens ----

  /**
   * §2.7 step 6: the existing non-revoked token for `role` if its scopes ⊇ `scopes`, else a newly
   * minted one (replacing the old entry). Undefined when the device is not paired.
   */
  ensureDeviceToken(deviceId: string, role: string, scopes: readonly string[]): DeviceAuthToken | undefined {
    this.#state.assertOpen();
    const d = this.#paired.get(deviceId);
    if (d === undefined) return undefined;
    const live = reusableDeviceToken(d, role, scopes);
    if (live !== undefined) return clone(live);
    const minted = issueDeviceToken(d, role, scopes, this.#now());
    this.#markPaired(deviceId);
    return clone(minted);
  }

  /**
   * Device-token auth (§2.6 step 6): the token for `(deviceId, role)` must exist, not be revoked,
   * match (constant time) and cover `scopes`. Success records `lastUsedAtMs` — persisted lazily
   * (`lazyPersistMs`): a reconnect storm of N device-token logins would otherwise rewrite the
   * whole paired.json back to back for its whole duration.
   */
  verifyDeviceToken(deviceId: string, role: string, token: unknown, scopes: readonly string[]): DeviceTokenVerdict {
    const check = checkDeviceToken(this.#paired.get(deviceId), role, token, scopes);
    if (!check.ok) return check;
    check.entry.lastUsedAtMs = this.#now();
    this.#state.markPairedLazy(deviceId);
    return { ok: true };
  }

  /**
   * `device.token.rotate`: mints a new token for a role the device is approved for (or already
   * has a token for). With `scopes` the token gets them and they also replace the paired scopes;
   * without, the old token's scopes (else the paired scopes) are kept.
   *
   * A rotation never grants more than the device was approved for (its paired scopes), nor
   * more than `callerScopes` (the scopes of the connection asking, when given): narrowing is
   * allowed, widening needs a new pairing approval. `operator.admin` covers every scope.
   * Throws `GW_ERR_PAIRING_UNKNOWN_DEVICE` ("unknown deviceId/role") or
   * `GW_ERR_PROTO_INVALID_PARAMS` ("device not approved for scope: …" / "missing scope: …").
   */
  rotateToken(deviceId: string, role: string, scopes?: readonly string[], callerScopes?: readonly string[]): DeviceAuthToken {
    this.#state.assertOpen();
    const d = this.#requireRole(deviceId, role);
    const old = d.tokens?.[role];
    const approved = d.scopes ?? [];
    const next = scopes !== undefined ? normalizeScopes(scopes) : normalizeScopes(old?.scopes ?? approved);
    const notApproved = firstUncoveredScope(approved, next);
    if (notApproved !== undefined) {
      throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `device not approved for scope: ${notApproved}`, { deviceId, role, scope: notApproved });
    }
    const notHeld = callerScopes === undefined ? undefined : firstUncoveredScope(callerScopes, next);
    if (notHeld !== undefined) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `missing scope: ${notHeld}`, { deviceId, role, scope: notHeld });
    if (scopes !== undefined) d.scopes = next;
    const minted = issueDeviceToken(d, role, next, this.#now());
    minted.rotatedAtMs = minted.rotatedAtMs ?? minted.createdAtMs;
    this.#markPaired(deviceId);
    return clone(minted);
  }

  /** `device.token.revoke`: marks the role's token revoked (idempotent). Throws `GW_ERR_PAIRING_UNKNOWN_DEVICE`. */
  revokeToken(deviceId: string, role: string): DeviceAuthToken {
    this.#state.assertOpen();
    const entry = this.#paired.get(deviceId)?.tokens?.[role];
    if (entry === undefined) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_DEVICE", "unknown deviceId/role", { deviceId, role });
    if (entry.revokedAtMs === undefined) {
      entry.revokedAtMs = this.#now();
      this.#markPaired(deviceId);
    }
    return clone(entry);
  }

  // ---- lifecycle ----

  /** Persist runs started so far (each writes whichever file is dirty); for tests and metrics. */
  get writeCount(): number {
    return this.#state.writeCount;
  }

  /** Resolves when the current state (lazy fields included) is on disk; rejects with `GW_ERR_STORE_WRITE_FAILED`. */
  flush(): Promise<void> {
    const disk = this.#state.flush();
    return this.#replicator === undefined ? disk : Promise.all([disk, this.#replication.all()]).then(() => undefined);
  }

  /** Stops the prune timer and flushes. Later mutations throw `GW_ERR_SERVER_SHUTTING_DOWN`. */
  close(): Promise<void> {
    return this.#state.close();
  }

  // ---- durability ----

  /**
   * Persist before acknowledging, per device: undefined when everything this store holds about
   * `deviceId` is already on disk, else a promise that resolves with the (group) write that
   * carries it and rejects with `GW_ERR_STORE_WRITE_FAILED` if that write fails. The handshake
   * awaits it before sending `hello-ok` (or the NOT_PAIRED `requestId`).
   */
  durableBarrier(deviceId: string): Promise<void> | undefined {
    return bothBarriers(this.#unsynced.barrier(deviceId), this.#replication.barrier(deviceId));
  }

  // ---- shared state (cluster) ----

  /** Shares every later mutation through `replicator` (see pairing-replicator.ts). Set once, before serving. */
  setReplicator(replicator: PairingReplicator<PairedDevice, PendingDeviceRequest>): void {
    this.#replicator = replicator;
    // Every gateway prunes by the request's own timestamp; the shared copy goes best-effort.
    this.#state.onExpired = (requestId) => void replicator.pending(requestId, undefined, "lazy");
  }

  /**
   * Another gateway's state of a paired record (`undefined`: removed): replaces the local copy
   * in memory and on disk, without replicating it back. Takes effect for the very next
   * `verifyDeviceToken` (a revoked token is refused at once).
   */
  applyRemotePaired(deviceId: string, record: PairedDevice | undefined): void {
    this.#state.applyRemotePaired(deviceId, record);
  }

  /** Another gateway's pending request (`undefined`: resolved there), as `applyRemotePaired`. */
  applyRemotePending(requestId: string, request: PendingDeviceRequest | undefined): void {
    this.#state.applyRemotePending(requestId, request);
  }

  // ---- internals ----

  #markPaired(deviceId: string, mode: ReplicationMode = "ack"): void {
    this.#state.markPaired(deviceId);
    this.#unsynced.note(deviceId);
    if (this.#replicator === undefined) return;
    const d = this.#paired.get(deviceId);
    const p = this.#replicator.paired(deviceId, d === undefined ? undefined : clone(d), mode);
    if (mode === "ack") this.#replication.track(deviceId, p);
  }

  #replicatePending(deviceId: string, requestId: string, req: PendingDeviceRequest | undefined): void {
    if (this.#replicator === undefined) return;
    this.#replication.track(deviceId, this.#replicator.pending(requestId, req === undefined ? undefined : clone(req)));
  }

  #markPending(deviceId: string): void {
    this.#state.markPending();
    this.#unsynced.note(deviceId);
  }

  #requireRole(deviceId: string, role: string): PairedDevice {
    const d = this.#paired.get(deviceId);
    const known = d !== undefined && (d.tokens?.[role] !== undefined || (mergeRoles(d.roles, d.role) ?? []).includes(role));
    if (!known) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_DEVICE", "unknown deviceId/role", { deviceId, role });
    return d;
  }

  #emit(event: DevicePairEvent): void {
    try {
      this.#opts.onEvent?.(event);
    } catch (err) {
      this.#warn(`${event.event} listener threw`, { error: String(err) });
    }
  }

  #warn(message: string, details: Record<string, unknown>): void {
    this.#state.warn(message, details);
  }
}
