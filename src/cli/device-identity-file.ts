/**
 * The CLI's own device identity, as clawdbot clients keep it:
 * `~/.clawdbot/identity/device.json` (real home dir, not the state dir; 0600) and the
 * device tokens received in hello-ok under `<stateDir>/identity/device-auth.json`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import os from "node:os";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "../shared/store/atomic-json.js";

export interface DeviceIdentity {
  deviceId: string;
  publicKey: string;
  privateKey: KeyObject;
}

interface DeviceFile {
  version: 1;
  deviceId: string;
  publicKeyPem: string;
  privateKeyPem: string;
  createdAtMs: number;
}

function isDeviceFile(v: unknown): v is DeviceFile {
  const o = v as Partial<DeviceFile> | null;
  return !!o && o.version === 1 && typeof o.publicKeyPem === "string" && typeof o.privateKeyPem === "string";
}

function rawKey(pub: KeyObject): Buffer {
  return pub.export({ format: "der", type: "spki" }).subarray(-32);
}

/** Path of the identity file (override with CLAWDBOT_DEVICE_IDENTITY_PATH, used by tests). */
export function deviceIdentityPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAWDBOT_DEVICE_IDENTITY_PATH ?? join(os.homedir(), ".clawdbot", "identity", "device.json");
}

/** Loads the identity, creating one (Ed25519) on first use. */
export async function loadOrCreateDeviceIdentity(path = deviceIdentityPath()): Promise<DeviceIdentity> {
  const existing = await readJsonFile<DeviceFile | null>(path, { fallback: () => null, validate: (v): v is DeviceFile => isDeviceFile(v), onCorrupt: "quarantine" });
  if (existing) {
    const pub = createPublicKey(existing.publicKeyPem);
    const raw = rawKey(pub);
    return { deviceId: createHash("sha256").update(raw).digest("hex"), publicKey: raw.toString("base64url"), privateKey: createPrivateKey(existing.privateKeyPem) };
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = rawKey(publicKey);
  const deviceId = createHash("sha256").update(raw).digest("hex");
  const file: DeviceFile = {
    version: 1,
    deviceId,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAtMs: Date.now(),
  };
  await writeJsonAtomic(path, file);
  return { deviceId, publicKey: raw.toString("base64url"), privateKey };
}

/** Signs the v2 (with nonce) or v1 device payload of §2.4. */
export function signConnect(
  id: DeviceIdentity,
  p: { clientId: string; clientMode: string; role: string; scopes: string[]; token: string; nonce?: string; signedAt: number },
): { id: string; publicKey: string; signature: string; signedAt: number; nonce?: string } {
  const parts = [p.nonce ? "v2" : "v1", id.deviceId, p.clientId, p.clientMode, p.role, p.scopes.join(","), String(p.signedAt), p.token];
  if (p.nonce) parts.push(p.nonce);
  const signature = sign(null, Buffer.from(parts.join("|"), "utf8"), id.privateKey).toString("base64url");
  return { id: id.deviceId, publicKey: id.publicKey, signature, signedAt: p.signedAt, ...(p.nonce ? { nonce: p.nonce } : {}) };
}

type DeviceAuthFile = { version: 1; tokens: Record<string, { token: string; role: string; scopes: string[]; savedAtMs: number }> };

function deviceAuthPath(stateDir: string): string {
  return join(stateDir, "identity", "device-auth.json");
}

async function readDeviceAuth(stateDir: string): Promise<DeviceAuthFile> {
  return readJsonFile<DeviceAuthFile>(deviceAuthPath(stateDir), {
    fallback: () => ({ version: 1, tokens: {} }),
    validate: (v): v is DeviceAuthFile => typeof v === "object" && v !== null && typeof (v as DeviceAuthFile).tokens === "object",
    onCorrupt: "quarantine",
  });
}

/** The stored device token for (deviceId, role), if any. */
export async function loadDeviceToken(stateDir: string, deviceId: string, role: string): Promise<string | undefined> {
  return (await readDeviceAuth(stateDir)).tokens[`${deviceId}:${role}`]?.token;
}

/** Persists (or with `token` undefined, forgets) the device token for (deviceId, role). */
export async function saveDeviceToken(stateDir: string, deviceId: string, role: string, token: string | undefined, scopes: string[] = []): Promise<void> {
  const file = await readDeviceAuth(stateDir);
  const key = `${deviceId}:${role}`;
  if (token === undefined) delete file.tokens[key];
  else file.tokens[key] = { token, role, scopes, savedAtMs: Date.now() };
  await writeJsonAtomic(deviceAuthPath(stateDir), file);
}
