/**
 * Record shapes of `<stateDir>/devices/{pending,paired}.json` (protocol reference §2.7) and
 * the small pure helpers the pairing store and the handshake share (scope sets, pairing
 * status, load-time sanitising of records read from disk).
 */
import type { NodeDescriptor } from "./node-pairing-types.js";

/**
 * How a device describes itself: name, platform and address typed as the node descriptor
 * (generated from the protocol schemas), plus its `connect` client id and mode. Kept as plain
 * strings: records read from disk are not narrowed to today's client-id list.
 */
export interface DeviceDescriptor extends Pick<NodeDescriptor, "displayName" | "platform" | "remoteIp"> {
  clientId?: string;
  clientMode?: string;
}

/** One device auth token, per role, inside `PairedDevice.tokens`. */
export interface DeviceAuthToken {
  token: string;
  role: string;
  /** Sorted, de-duplicated. */
  scopes: string[];
  createdAtMs: number;
  rotatedAtMs?: number;
  revokedAtMs?: number;
  lastUsedAtMs?: number;
}

/** `paired.json[deviceId]`. */
export interface PairedDevice extends DeviceDescriptor {
  deviceId: string;
  /** base64url (no padding) of the raw 32-byte Ed25519 key. */
  publicKey: string;
  role?: string;
  roles?: string[];
  scopes?: string[];
  tokens?: Record<string, DeviceAuthToken>;
  createdAtMs: number;
  approvedAtMs: number;
}

/** `pending.json[requestId]`; also the `device.pair.requested` event payload. */
export interface PendingDeviceRequest extends DeviceDescriptor {
  requestId: string;
  deviceId: string;
  publicKey: string;
  role: string;
  roles: string[];
  scopes: string[];
  /** Peer was local: the handshake approves it at once (kept when the request is reused, §13.1 #21). */
  silent: boolean;
  /** The device was already paired (role or scope upgrade). */
  isRepair: boolean;
  ts: number;
}

/** `device.pair.resolved` payload. */
export interface DevicePairResolved {
  requestId: string;
  deviceId: string;
  decision: "approved" | "rejected";
  ts: number;
}

/** Events the store asks the gateway to broadcast (pairing-scoped, §4.1). */
export type DevicePairEvent =
  | { event: "device.pair.requested"; payload: PendingDeviceRequest }
  | { event: "device.pair.resolved"; payload: DevicePairResolved };

/** Token without its secret, as listed by `device.pair.list`. */
export interface DeviceTokenSummary {
  role: string;
  scopes: string[];
  createdAtMs: number;
  rotatedAtMs?: number;
  revokedAtMs?: number;
  lastUsedAtMs?: number;
}

/** `PairedDevice'` of `device.pair.list` / `device.pair.approve`: tokens replaced by summaries sorted by role. */
export type PairedDeviceView = Omit<PairedDevice, "tokens"> & { tokens?: DeviceTokenSummary[] };

/** Why a connecting device needs (re-)pairing (§2.7 step 2). */
export type PairingRequiredReason = "not-paired" | "role-upgrade" | "scope-upgrade";

/** Pending pairing requests expire after 5 minutes (Appendix C). */
export const DEVICE_PAIRING_PENDING_TTL_MS = 300_000;

/** Longest a `lastUsedAtMs` update waits in memory before it is written (a crash loses only that timestamp). */
export const DEVICE_PAIRING_LAZY_PERSIST_MS = 5_000;

/** Trims, drops empties and duplicates, sorts. */
export function normalizeScopes(scopes: readonly unknown[] | undefined): string[] {
  if (scopes === undefined) return [];
  const set = new Set<string>();
  for (const s of scopes) {
    if (typeof s !== "string") continue;
    const t = s.trim();
    if (t !== "") set.add(t);
  }
  return [...set].sort();
}

/** `requested ⊆ allowed` (literal string sets; an empty request is always allowed). */
export function scopesAllow(requested: readonly string[], allowed: readonly string[]): boolean {
  if (requested.length === 0) return true;
  const have = new Set(allowed);
  return requested.every((s) => have.has(s));
}

/**
 * True when a holder of `held` may hand out `wanted`: `operator.admin` covers every scope,
 * otherwise each wanted scope must be held. (`scopesAllow` is the exact-set check of tokens.)
 */
export function scopesCover(held: readonly string[], wanted: readonly string[]): boolean {
  return held.includes("operator.admin") || scopesAllow(wanted, held);
}

/** The first scope of `wanted` that `held` does not cover (see `scopesCover`), or undefined. */
export function firstUncoveredScope(held: readonly string[], wanted: readonly string[]): string | undefined {
  if (held.includes("operator.admin")) return undefined;
  const have = new Set(held);
  return wanted.find((s) => !have.has(s));
}

/** Union of role lists plus single roles, sorted; undefined when empty. */
export function mergeRoles(...parts: (readonly string[] | string | undefined)[]): string[] | undefined {
  const out = new Set<string>();
  for (const p of parts) {
    if (p === undefined) continue;
    for (const r of typeof p === "string" ? [p] : p) {
      const t = r.trim();
      if (t !== "") out.add(t);
    }
  }
  return out.size === 0 ? undefined : [...out].sort();
}

/**
 * §2.7 step 1–2. `publicKey` is the normalised base64url key; `scopes` are the RESOLVED scopes
 * (after defaulting: an operator that sent none counts as `operator.admin`).
 */
export function pairingStatus(
  paired: PairedDevice | undefined,
  publicKey: string,
  role: string,
  scopes: readonly string[],
): { ok: true } | { ok: false; reason: PairingRequiredReason } {
  if (paired === undefined || paired.publicKey !== publicKey) return { ok: false, reason: "not-paired" };
  const roles = mergeRoles(paired.roles, paired.role) ?? [];
  if (!roles.includes(role)) return { ok: false, reason: "role-upgrade" };
  if (scopes.length > 0 && !scopesAllow(scopes, paired.scopes ?? [])) return { ok: false, reason: "scope-upgrade" };
  return { ok: true };
}

/** `PairedDevice'`: the record without token secrets (for `device.pair.list` / approve results). */
export function toPairedDeviceView(device: PairedDevice): PairedDeviceView {
  const { tokens, ...rest } = device;
  if (tokens === undefined) return { ...rest };
  const summaries = Object.values(tokens)
    .map((t): DeviceTokenSummary => {
      const s: DeviceTokenSummary = { role: t.role, scopes: [...t.scopes], createdAtMs: t.createdAtMs };
      if (t.rotatedAtMs !== undefined) s.rotatedAtMs = t.rotatedAtMs;
      if (t.revokedAtMs !== undefined) s.revokedAtMs = t.revokedAtMs;
      if (t.lastUsedAtMs !== undefined) s.lastUsedAtMs = t.lastUsedAtMs;
      return s;
    })
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  return { ...rest, tokens: summaries };
}

/** Options of `DevicePairingStore.open` (device-pairing-store.ts). */
export interface DevicePairingStoreOptions {
  /** State dir; files live in `<stateDir>/devices/`. */
  stateDir: string;
  /** Receives `device.pair.requested` / `device.pair.resolved` for broadcasting. Default: none. */
  onEvent?: (event: DevicePairEvent) => void;
  /** Operator-facing problems: quarantined or malformed files, failed background writes. Default: none. */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Pending request lifetime. Default `300000` (5 min). */
  pendingTtlMs?: number;
  /** How often expired pending requests are pruned in the background (timer is unref'd). Default `60000`. */
  pruneIntervalMs?: number;
  /** Delay before a `lastUsedAtMs`-only change is written (see `verifyDeviceToken`). Default `5000`. */
  lazyPersistMs?: number;
}

/** What the handshake knows when pairing is required (§2.7 step 3). */
export interface PairingRequestInput extends DeviceDescriptor {
  deviceId: string;
  /** Normalised base64url key. */
  publicKey: string;
  role: string;
  /** Resolved scopes (after defaulting). */
  scopes: readonly string[];
  /** Peer is local. */
  silent: boolean;
}

/** Metadata refreshed on each successful connect (§2.7 step 4). Undefined fields are left alone. */
export interface DeviceMetadataPatch extends DeviceDescriptor {
  role?: string;
  /** Merged (union) into the paired scopes. */
  scopes?: readonly string[];
}

/** Outcome of `verifyDeviceToken`. */
export type DeviceTokenVerdict =
  | { ok: true }
  | { ok: false; reason: "unknown-device" | "token-missing" | "token-revoked" | "token-mismatch" | "scope-mismatch" };
