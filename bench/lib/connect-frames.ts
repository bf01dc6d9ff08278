/**
 * `connect` request frames for the load generator: token auth (one constant frame) and
 * device-signed auth (Ed25519 over the v2 payload with the challenge nonce, signed per
 * connection as a real client does). Keys are generated before the measured window.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { maskedText } from "./ws-frames.js";
import type { ConnectFrameBuilder } from "./raw-ws.js";

export type { ConnectFrameBuilder };

/** Client identity presented in `connect.params.client`. */
export interface ClientIdentity {
  /** A GatewayClientId (`cli`, `test`, `gateway-client`, …). */
  id: string;
  /** A GatewayClientMode (`cli`, `backend`, `test`, …). */
  mode: string;
}

/** An Ed25519 device identity: id = sha256(raw public key) hex, publicKey = base64url(raw). */
export interface DeviceKey {
  id: string;
  publicKey: string;
  privateKey: KeyObject;
}

/** Generates `n` device identities. */
export function generateDevices(n: number): DeviceKey[] {
  const out: DeviceKey[] = [];
  for (let i = 0; i < n; i++) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    out.push({ id: createHash("sha256").update(raw).digest("hex"), publicKey: raw.toString("base64url"), privateKey });
  }
  return out;
}

function baseParams(client: ClientIdentity, token: string): Record<string, unknown> {
  return {
    minProtocol: 3,
    maxProtocol: 3,
    client: { id: client.id, version: "bench", platform: process.platform, mode: client.mode },
    auth: { token },
  };
}

/** The same masked `connect` frame for every connection (shared token, no device). */
export function tokenConnectFrame(client: ClientIdentity, token: string): ConnectFrameBuilder {
  const frame = maskedText(JSON.stringify({ type: "req", id: "c", method: "connect", params: baseParams(client, token) }));
  return () => frame;
}

/**
 * Device-signed `connect` frames: devices are used round-robin; each frame signs
 * `v2|deviceId|clientId|mode|role|scopes csv|signedAtMs|token|nonce` (role operator,
 * scopes as sent = none) and also carries the shared token.
 */
export function deviceConnectFrame(client: ClientIdentity, token: string, devices: readonly DeviceKey[]): ConnectFrameBuilder {
  if (devices.length === 0) throw new Error("device pool is empty");
  let next = 0;
  return (nonce: string) => {
    const d = devices[next++ % devices.length] as DeviceKey;
    const signedAt = Date.now();
    const payload = ["v2", d.id, client.id, client.mode, "operator", "", String(signedAt), token, nonce].join("|");
    const signature = sign(null, Buffer.from(payload, "utf8"), d.privateKey).toString("base64url");
    const params = { ...baseParams(client, token), device: { id: d.id, publicKey: d.publicKey, signature, signedAt, nonce } };
    return maskedText(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
  };
}
