/**
 * Ed25519 device identities for tests and benches, signed exactly as clawdbot clients sign
 * the `connect` device payload (the one implementation: test clients, node fleets, load
 * generators).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** What signing needs: id = sha256(raw public key) hex, publicKey = base64url(raw 32 bytes). */
export interface DeviceKey {
  id: string;
  publicKey: string;
  privateKey: KeyObject;
}

export interface TestDevice extends DeviceKey {
  publicKeyPem: string;
}

export function createDevice(): TestDevice {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return {
    id: createHash("sha256").update(raw).digest("hex"),
    publicKey: raw.toString("base64url"),
    privateKey,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

/** The fields of the signed payload; a nonce makes it v2 (and is echoed in the result). */
export interface SignInput {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: string[];
  token: string;
  nonce?: string;
  signedAt: number;
  deviceId?: string;
}

export function devicePayload(d: DeviceKey, s: SignInput): string {
  const base = [s.nonce ? "v2" : "v1", s.deviceId ?? d.id, s.clientId, s.clientMode, s.role, s.scopes.join(","), String(s.signedAt), s.token];
  if (s.nonce) base.push(s.nonce);
  return base.join("|");
}

/** The `connect.params.device` object for `d` over `s`. */
export function signDevice(d: DeviceKey, s: SignInput): Record<string, unknown> {
  const signature = sign(null, Buffer.from(devicePayload(d, s), "utf8"), d.privateKey).toString("base64url");
  const out: Record<string, unknown> = { id: s.deviceId ?? d.id, publicKey: d.publicKey, signature, signedAt: s.signedAt };
  if (s.nonce) out.nonce = s.nonce;
  return out;
}
