/** Ed25519 device identities for tests, signed exactly as clawdbot clients sign. */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

export interface TestDevice {
  id: string;
  publicKey: string;
  privateKey: KeyObject;
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

export function devicePayload(d: TestDevice, s: SignInput): string {
  const base = [s.nonce ? "v2" : "v1", s.deviceId ?? d.id, s.clientId, s.clientMode, s.role, s.scopes.join(","), String(s.signedAt), s.token];
  if (s.nonce) base.push(s.nonce);
  return base.join("|");
}

export function signDevice(d: TestDevice, s: SignInput): Record<string, unknown> {
  const signature = sign(null, Buffer.from(devicePayload(d, s), "utf8"), d.privateKey).toString("base64url");
  const out: Record<string, unknown> = { id: s.deviceId ?? d.id, publicKey: d.publicKey, signature, signedAt: s.signedAt };
  if (s.nonce) out.nonce = s.nonce;
  return out;
}
