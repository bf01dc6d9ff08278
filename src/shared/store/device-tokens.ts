/**
 * Device auth tokens inside a `PairedDevice` record (§2.7 step 6, §2.6 step 6): minting,
 * re-issuing and checking. Pure functions over the record; the pairing store owns persistence.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { normalizeScopes, scopesAllow } from "./device-pairing-types.js";
import type { DeviceAuthToken, PairedDevice } from "./device-pairing-types.js";

/** Outcome of `checkDeviceToken`. */
export type DeviceTokenCheck =
  | { ok: true; entry: DeviceAuthToken }
  | { ok: false; reason: "unknown-device" | "token-missing" | "token-revoked" | "token-mismatch" | "scope-mismatch" };

/** A new device token: 32 lowercase hex chars (a UUID without dashes). */
export function mintDeviceToken(): string {
  return randomUUID().replaceAll("-", "");
}

/** Constant-time equality of a stored token and a presented value (token length is public: 32). */
export function deviceTokenEquals(stored: string, presented: unknown): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(stored, "utf8");
  const b = Buffer.from(presented, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Replaces the device's token for `role` with a freshly minted one carrying `scopes`
 * (normalised). Keeps the old entry's `createdAtMs`/`lastUsedAtMs`; sets `rotatedAtMs` when an
 * old entry existed. Mutates `device.tokens`; returns the new entry.
 */
export function issueDeviceToken(device: PairedDevice, role: string, scopes: readonly string[], now: number): DeviceAuthToken {
  const old = device.tokens?.[role];
  const t: DeviceAuthToken = { token: mintDeviceToken(), role, scopes: normalizeScopes(scopes), createdAtMs: old?.createdAtMs ?? now };
  if (old !== undefined) t.rotatedAtMs = now;
  if (old?.lastUsedAtMs !== undefined) t.lastUsedAtMs = old.lastUsedAtMs;
  device.tokens = { ...(device.tokens ?? {}), [role]: t };
  return t;
}

/** The existing token for `role` when it is live and its scopes ⊇ `scopes`, else undefined. */
export function reusableDeviceToken(device: PairedDevice, role: string, scopes: readonly string[]): DeviceAuthToken | undefined {
  const t = device.tokens?.[role];
  if (t === undefined || t.revokedAtMs !== undefined || !scopesAllow(normalizeScopes(scopes), t.scopes)) return undefined;
  return t;
}

/** The token for `(device, role)` must exist, not be revoked, equal `token` and cover `scopes`. */
export function checkDeviceToken(device: PairedDevice | undefined, role: string, token: unknown, scopes: readonly string[]): DeviceTokenCheck {
  if (device === undefined) return { ok: false, reason: "unknown-device" };
  const entry = device.tokens?.[role];
  if (entry === undefined) return { ok: false, reason: "token-missing" };
  if (entry.revokedAtMs !== undefined) return { ok: false, reason: "token-revoked" };
  if (!deviceTokenEquals(entry.token, token)) return { ok: false, reason: "token-mismatch" };
  if (!scopesAllow(normalizeScopes(scopes), entry.scopes)) return { ok: false, reason: "scope-mismatch" };
  return { ok: true, entry };
}
