/**
 * Device pairing store: `<stateDir>/devices/pending.json` and `<stateDir>/devices/paired.json`
 * (protocol reference §2.7, §3.11 `device.*`).
 *
 * Invariants:
 * - The files are read once (`open`); afterwards memory is the source of truth and every read
 *   is served from it, so a handshake never waits for disk. External edits made while the
 *   gateway runs are overwritten by the next write.
 * - Mutations are synchronous on the in-memory maps (one JS thread ⇒ serialised, no lock) and
 *   persisted write-behind: one `WriteBehindQueue` snapshots both maps, then writes paired.json
 *   and pending.json (each atomically), coalescing bursts. Paired first means a crash between
 *   the two files can leave an already-approved request pending (harmless: approving it again
 *   merges), never an approval that vanished with its request. `flush()` resolves once the current state is on disk —
 *   RPC handlers that acknowledge a mutation should await it first (persist before ack).
 * - No auth state is cached outside these maps: a rotated or revoked token is effective for the
 *   very next `verifyDeviceToken`.
 * - Corrupt files are moved aside to `<file>.corrupt-<ms>` and the store starts empty for that
 *   file (reported through `onWarning`): failing closed (devices re-pair; shared-token auth still
 *   works) keeps the gateway reachable, and the bad file is kept for inspection.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { GatewayError } from "../errors.js";
import { writeFileAtomic } from "./atomic-json.js";
import { WriteBehindQueue } from "./write-behind.js";
import { loadRecordFile, sanitizePairedDevice, sanitizePendingRequest } from "./device-pairing-files.js";
import { DEVICE_PAIRING_LAZY_PERSIST_MS, DEVICE_PAIRING_PENDING_TTL_MS, mergeRoles, normalizeScopes } from "./device-pairing-types.js";
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

/** Pretty JSON of a record map, keyed like the file. */
const serialize = (records: Map<string, unknown>): string => `${JSON.stringify(Object.fromEntries(records), null, 2)}\n`;

/** In-memory device pairing state with write-behind persistence. Create with `DevicePairingStore.open`. */
export class DevicePairingStore {
  readonly pairedPath: string;
  readonly pendingPath: string;
  readonly #paired = new Map<string, PairedDevice>();
  readonly #pending = new Map<string, PendingDeviceRequest>();
  readonly #opts: DevicePairingStoreOptions;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #queue: WriteBehindQueue;
  readonly #timer: NodeJS.Timeout;
  #lazyTimer: NodeJS.Timeout | null = null;
  #pairedDirty = false;
  #pendingDirty = false;
  #closed = false;

  private constructor(opts: DevicePairingStoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#ttl = opts.pendingTtlMs ?? DEVICE_PAIRING_PENDING_TTL_MS;
    this.pairedPath = join(opts.stateDir, "devices", "paired.json");
    this.pendingPath = join(opts.stateDir, "devices", "pending.json");
    this.#queue = new WriteBehindQueue(() => this.#persist(), {
      onError: (err) => this.#warn("device pairing state could not be written; retrying", { error: String(err) }),
    });
    this.#timer = setInterval(() => this.#prune(), opts.pruneIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** Loads both files (missing → empty, corrupt → quarantined + empty) and starts the prune timer. */
  static async open(opts: DevicePairingStoreOptions): Promise<DevicePairingStore> {
    const store = new DevicePairingStore(opts);
    try {
      await store.#load();
    } catch (err) {
      clearInterval(store.#timer);
      throw err;
    }
    return store;
  }

  async #load(): Promise<void> {
    const warn = (message: string, details: Record<string, unknown>): void => this.#warn(message, details);
    for (const [k, v] of await loadRecordFile(this.pairedPath, sanitizePairedDevice, warn)) this.#paired.set(k, v);
    for (const [k, v] of await loadRecordFile(this.pendingPath, sanitizePendingRequest, warn)) this.#pending.set(k, v);
    this.#prune();
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
    this.#prune();
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
    this.#assertOpen();
    this.#prune();
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
    this.#markPending();
    if (!req.silent) this.#emit({ event: "device.pair.requested", payload: clone(req) });
    return { request: clone(req), created: true };
  }

  /**
   * Approves a pending request: merges its roles/scopes into the paired record (creating it),
   * mints a fresh token for the request's role and emits `device.pair.resolved` (approved).
   * Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST` for unknown or expired ids.
   */
  approve(requestId: string): { requestId: string; device: PairedDevice } {
    this.#assertOpen();
    const req = this.#takePending(requestId);
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
    this.#markPaired();
    this.#emit({ event: "device.pair.resolved", payload: { requestId, deviceId: req.deviceId, decision: "approved", ts: now } });
    return { requestId, device: clone(device) };
  }

  /** Drops a pending request and emits `device.pair.resolved` (rejected). Throws `GW_ERR_PAIRING_UNKNOWN_REQUEST`. */
  reject(requestId: string): { requestId: string; deviceId: string } {
    this.#assertOpen();
    const req = this.#takePending(requestId);
    this.#emit({ event: "device.pair.resolved", payload: { requestId, deviceId: req.deviceId, decision: "rejected", ts: this.#now() } });
    return { requestId, deviceId: req.deviceId };
  }

  /** Refreshes metadata of a paired device after a successful connect. Returns false when not paired. */
  updateMetadata(deviceId: string, patch: DeviceMetadataPatch): boolean {
    this.#assertOpen();
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
    if (changed) this.#markPaired();
    return true;
  }

  // ---- device tokens ----

  /**
   * §2.7 step 6: the existing non-revoked token for `role` if its scopes ⊇ `scopes`, else a newly
   * minted one (replacing the old entry). Undefined when the device is not paired.
   */
  ensureDeviceToken(deviceId: string, role: string, scopes: readonly string[]): DeviceAuthToken | undefined {
    this.#assertOpen();
    const d = this.#paired.get(deviceId);
    if (d === undefined) return undefined;
    const live = reusableDeviceToken(d, role, scopes);
    if (live !== undefined) return clone(live);
    const minted = issueDeviceToken(d, role, scopes, this.#now());
    this.#markPaired();
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
    this.#markPairedLazy();
    return { ok: true };
  }

  /**
   * `device.token.rotate`: mints a new token for a role the device is approved for (or already
   * has a token for). With `scopes` the token gets them and they also replace the paired scopes;
   * without, the old token's scopes (else the paired scopes) are kept.
   * Throws `GW_ERR_PAIRING_UNKNOWN_DEVICE` ("unknown deviceId/role").
   */
  rotateToken(deviceId: string, role: string, scopes?: readonly string[]): DeviceAuthToken {
    this.#assertOpen();
    const d = this.#requireRole(deviceId, role);
    const old = d.tokens?.[role];
    const next = scopes !== undefined ? normalizeScopes(scopes) : normalizeScopes(old?.scopes ?? d.scopes ?? []);
    if (scopes !== undefined) d.scopes = next;
    const minted = issueDeviceToken(d, role, next, this.#now());
    minted.rotatedAtMs = minted.rotatedAtMs ?? minted.createdAtMs;
    this.#markPaired();
    return clone(minted);
  }

  /** `device.token.revoke`: marks the role's token revoked (idempotent). Throws `GW_ERR_PAIRING_UNKNOWN_DEVICE`. */
  revokeToken(deviceId: string, role: string): DeviceAuthToken {
    this.#assertOpen();
    const entry = this.#paired.get(deviceId)?.tokens?.[role];
    if (entry === undefined) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_DEVICE", "unknown deviceId/role", { deviceId, role });
    if (entry.revokedAtMs === undefined) {
      entry.revokedAtMs = this.#now();
      this.#markPaired();
    }
    return clone(entry);
  }

  // ---- lifecycle ----

  /** Persist runs started so far (each writes whichever file is dirty); for tests and metrics. */
  get writeCount(): number {
    return this.#queue.runs;
  }

  /** Resolves when the current state (lazy fields included) is on disk; rejects with `GW_ERR_STORE_WRITE_FAILED`. */
  flush(): Promise<void> {
    if (this.#lazyTimer !== null) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
      if (!this.#closed) this.#queue.schedule();
    }
    return this.#queue.flush();
  }

  /** Stops the prune timer and flushes. Later mutations throw `GW_ERR_SERVER_SHUTTING_DOWN`. */
  async close(): Promise<void> {
    if (this.#lazyTimer !== null) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
      this.#queue.schedule();
    }
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await this.#queue.flush();
    } finally {
      this.#queue.stop();
    }
  }

  // ---- internals ----

  #requireRole(deviceId: string, role: string): PairedDevice {
    const d = this.#paired.get(deviceId);
    const known = d !== undefined && (d.tokens?.[role] !== undefined || (mergeRoles(d.roles, d.role) ?? []).includes(role));
    if (!known) throw new GatewayError("GW_ERR_PAIRING_UNKNOWN_DEVICE", "unknown deviceId/role", { deviceId, role });
    return d;
  }

  #takePending(requestId: string): PendingDeviceRequest {
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

  // After close nothing is scheduled any more: a late write must not recreate a removed state dir.
  #markPaired(): void {
    this.#pairedDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  /** Metadata-only change: written with the next real mutation, a flush, or after `lazyPersistMs`. */
  #markPairedLazy(): void {
    this.#pairedDirty = true;
    if (this.#closed || this.#lazyTimer !== null) return;
    this.#lazyTimer = setTimeout(() => {
      this.#lazyTimer = null;
      if (!this.#closed) this.#queue.schedule();
    }, this.#opts.lazyPersistMs ?? DEVICE_PAIRING_LAZY_PERSIST_MS);
    this.#lazyTimer.unref();
  }

  #markPending(): void {
    this.#pendingDirty = true;
    if (!this.#closed) this.#queue.schedule();
  }

  async #persist(): Promise<void> {
    // Both snapshots are taken now, before any await, and paired.json is written first: so
    // pending.json on disk is never newer than paired.json (a crash cannot drop a request whose
    // approval did not reach disk).
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

  #emit(event: DevicePairEvent): void {
    try {
      this.#opts.onEvent?.(event);
    } catch (err) {
      this.#warn(`${event.event} listener threw`, { error: String(err) });
    }
  }

  #warn(message: string, details: Record<string, unknown>): void {
    this.#opts.onWarning?.(message, details);
  }

  #assertOpen(): void {
    if (this.#closed) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "device pairing store is closed");
  }
}
