/**
 * Ed25519 device identity checks of the `connect` handshake (protocol reference §2.4).
 *
 * Everything here takes hostile input: any field may be a non-string, garbage base64, a key of
 * the wrong length or a PEM of another key type. Nothing throws; failures are values.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";

/** Allowed clock skew between `device.signedAt` and the gateway clock (Appendix C). */
export const DEVICE_SIGNATURE_SKEW_MS = 600_000;

/** Longest public key string considered (a PEM SPKI Ed25519 key is ~113 chars). */
const MAX_PUBLIC_KEY_CHARS = 4096;
/** Longest signature string considered (64 bytes are 86 base64url chars). */
const MAX_SIGNATURE_CHARS = 256;

/** The failure messages of §2.4, in check order. */
export type DeviceIdentityFailure =
  | "device identity mismatch"
  | "device signature expired"
  | "device nonce required"
  | "device nonce mismatch"
  | "device signature invalid"
  | "device public key invalid";

/** A normalised Ed25519 public key. */
export interface DevicePublicKey {
  /** The raw 32-byte key. */
  raw: Buffer;
  /** base64url without padding of `raw` (the form stored in `paired.json`). */
  base64Url: string;
}

/**
 * Decodes base64url or standard base64 (padding optional). Undefined for non-strings, empty or
 * over-long input, characters outside both alphabets, or an impossible length.
 */
export function decodeBase64Flexible(input: unknown, maxChars = MAX_PUBLIC_KEY_CHARS): Buffer | undefined {
  if (typeof input !== "string") return undefined;
  const s = input.trim();
  if (s === "" || s.length > maxChars || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) return undefined;
  const body = s.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (body.length % 4 === 1) return undefined;
  return Buffer.from(body, "base64");
}

/**
 * Normalises `device.publicKey`: base64url (or base64) of the raw 32-byte key, or a PEM SPKI
 * string (recognised by `BEGIN`) holding an Ed25519 key. Undefined when it is neither.
 */
export function normalizeDevicePublicKey(input: unknown): DevicePublicKey | undefined {
  if (typeof input !== "string" || input.length > MAX_PUBLIC_KEY_CHARS) return undefined;
  let raw: Buffer | undefined;
  if (input.includes("BEGIN")) {
    try {
      const key = createPublicKey({ key: input, format: "pem" });
      if (key.asymmetricKeyType !== "ed25519") return undefined;
      raw = decodeBase64Flexible(key.export({ format: "jwk" }).x);
    } catch {
      return undefined;
    }
  } else {
    raw = decodeBase64Flexible(input);
  }
  if (raw === undefined || raw.length !== 32) return undefined;
  return { raw, base64Url: raw.toString("base64url") };
}

/** `device.id` for a public key: lowercase hex SHA-256 of the raw 32-byte key; undefined if the key is invalid. */
export function deriveDeviceId(publicKey: unknown): string | undefined {
  const key = normalizeDevicePublicKey(publicKey);
  return key === undefined ? undefined : createHash("sha256").update(key.raw).digest("hex");
}

/** Fields of the signed device-auth payload. */
export interface DeviceAuthPayloadInput {
  deviceId: string;
  clientId: string;
  clientMode: string;
  /** The resolved role (default `operator`). */
  role: string;
  /** The scopes AS SENT in `connect.params.scopes` (`[]` when omitted), never the defaulted ones. */
  scopes: readonly string[];
  signedAtMs: number;
  /** `connect.params.auth.token`; absent → `""`. */
  token?: string | null;
  /** Present → v2 payload; absent → v1. */
  nonce?: string;
}

/**
 * The exact UTF-8 string a device signs:
 * `v2|deviceId|clientId|mode|role|scopes csv|signedAtMs|token|nonce`, or v1 without the nonce.
 */
export function buildDeviceAuthPayload(p: DeviceAuthPayloadInput): string {
  const parts = [p.nonce !== undefined ? "v2" : "v1", p.deviceId, p.clientId, p.clientMode, p.role, p.scopes.join(","), String(p.signedAtMs), p.token ?? ""];
  if (p.nonce !== undefined) parts.push(p.nonce);
  return parts.join("|");
}

/**
 * KeyObjects of recently seen keys: importing from JWK costs ~5% of a device handshake,
 * and a reconnect storm presents the same keys again. Bounded; oldest entry evicted.
 */
const KEY_CACHE_MAX = 32_768;
const keyCache = new Map<string, KeyObject>();

function ed25519KeyObject(raw: Buffer): KeyObject | undefined {
  const x = raw.toString("base64url");
  const hit = keyCache.get(x);
  if (hit) return hit;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return undefined;
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(x, key);
  return key;
}

/** Verifies an Ed25519 `signature` (base64url, base64 tolerated) over `payload`. Never throws. */
export function verifyDeviceSignature(publicKey: DevicePublicKey, payload: string, signature: unknown): boolean {
  const sig = decodeBase64Flexible(signature, MAX_SIGNATURE_CHARS);
  if (sig === undefined || sig.length !== 64) return false;
  const key = ed25519KeyObject(publicKey.raw);
  if (key === undefined) return false;
  try {
    return cryptoVerify(null, Buffer.from(payload, "utf8"), key, sig);
  } catch {
    return false;
  }
}

/** `connect.params.device` as received (typed loosely on purpose: checked here). */
export interface DeviceAuthParams {
  id: unknown;
  publicKey: unknown;
  signature: unknown;
  signedAt: unknown;
  nonce?: unknown;
}

/** Connection facts the device signature is checked against. */
export interface DeviceCheckContext {
  clientId: string;
  clientMode: string;
  /** Resolved role. */
  role: string;
  /** Scopes as sent (`[]` when omitted). */
  scopes: readonly string[];
  /** `auth.token` as sent. */
  token?: string | null;
  /** The nonce of the `connect.challenge` this socket received. */
  challengeNonce: string | undefined;
  /** Peer is local (client IP loopback, see `isLoopbackAddress`). */
  isLocal: boolean;
  /** Clock for the skew check. Default `Date.now()`. */
  nowMs?: number;
}

/** Outcome of `checkDeviceIdentity`. */
export type DeviceCheckResult =
  | { ok: true; deviceId: string; publicKey: string; payloadVersion: "v1" | "v2" }
  | { ok: false; message: DeviceIdentityFailure };

/**
 * Runs the §2.4 checks in order and returns the first failure's exact message (the handshake
 * replies `INVALID_REQUEST` with it and closes 1008), or the verified id and normalised key.
 */
export function checkDeviceIdentity(device: DeviceAuthParams, ctx: DeviceCheckContext): DeviceCheckResult {
  // 1. A key that cannot be normalised derives no id, so it fails here as a mismatch; this is
  //    why check 6 ("device public key invalid") can never fire after it and is not repeated.
  const key = normalizeDevicePublicKey(device.publicKey);
  if (key === undefined) return { ok: false, message: "device identity mismatch" };
  const derivedId = createHash("sha256").update(key.raw).digest("hex");
  if (typeof device.id !== "string" || derivedId !== device.id) {
    return { ok: false, message: "device identity mismatch" };
  }
  // 2.
  const signedAt = device.signedAt;
  const now = ctx.nowMs ?? Date.now();
  if (typeof signedAt !== "number" || !Number.isFinite(signedAt) || Math.abs(now - signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return { ok: false, message: "device signature expired" };
  }
  // 3. + 4.
  const nonce = typeof device.nonce === "string" ? device.nonce.trim() : "";
  if (!ctx.isLocal && nonce === "") return { ok: false, message: "device nonce required" };
  if (nonce !== "" && nonce !== ctx.challengeNonce) return { ok: false, message: "device nonce mismatch" };
  // 5. v2 when a nonce was given, else v1. The reference's "second v1 attempt for a local peer
  //    without nonce" signs the very same v1 bytes as this first attempt, so it is not repeated.
  const version = nonce !== "" ? "v2" : "v1";
  const payload = buildDeviceAuthPayload({
    deviceId: derivedId,
    clientId: ctx.clientId,
    clientMode: ctx.clientMode,
    role: ctx.role,
    scopes: ctx.scopes,
    signedAtMs: signedAt,
    token: ctx.token,
    nonce: version === "v2" ? nonce : undefined,
  });
  if (!verifyDeviceSignature(key, payload, device.signature)) {
    return { ok: false, message: "device signature invalid" };
  }
  return { ok: true, deviceId: derivedId, publicKey: key.base64Url, payloadVersion: version };
}
