/**
 * `connect` request frames for the load generator: token auth (one constant frame) and
 * device-signed auth (Ed25519 over the v2 payload with the challenge nonce, signed per
 * connection as a real client does). Keys are generated before the measured window.
 */
import { createDevice, signDevice, type DeviceKey } from "../../test/helpers/device.js";
import { maskedText } from "../../test/helpers/ws-frames.js";
import type { ConnectFrameBuilder } from "./raw-ws.js";

export type { ConnectFrameBuilder, DeviceKey };

/** Client identity presented in `connect.params.client`. */
export interface ClientIdentity {
  /** A GatewayClientId (`cli`, `test`, `gateway-client`, …). */
  id: string;
  /** A GatewayClientMode (`cli`, `backend`, `test`, …). */
  mode: string;
}

/** Generates `n` device identities. */
export function generateDevices(n: number): DeviceKey[] {
  return Array.from({ length: n }, createDevice);
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
    const device = signDevice(d, { clientId: client.id, clientMode: client.mode, role: "operator", scopes: [], signedAt: Date.now(), token, nonce });
    const params = { ...baseParams(client, token), device };
    return maskedText(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
  };
}
