/**
 * A small protocol-3 client for the CLI's RPC helpers: connect as `client.id:"cli"`,
 * mode `cli`, scopes admin+approvals+pairing, with the CLI's device identity; then
 * call one method. Never spawns a gateway.
 */
import WebSocket from "ws";
import { randomUUID } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { checkPinnedCertificate } from "./tls-pin.js";
import { loadDeviceToken, loadOrCreateDeviceIdentity, saveDeviceToken, signConnect, type DeviceIdentity } from "./device-identity-file.js";

export const CLI_SCOPES = ["operator.admin", "operator.approvals", "operator.pairing"];

export interface RpcOptions {
  url: string;
  /**
   * SHA-256 fingerprint the wss:// server's certificate must have; with it, the CA chain
   * is not consulted (self-signed certificates). Without it, wss:// verifies against the
   * system CAs.
   */
  tlsFingerprint?: string;
  token?: string;
  password?: string;
  /** Whole-call timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** Wait past an `accepted` ack for the final `res` (two-stage methods). Default false. */
  expectFinal?: boolean;
  /** State dir for stored device tokens; when unset, device tokens are neither read nor saved. */
  stateDir?: string;
  /** Use a device identity (default true). */
  useDevice?: boolean;
  version?: string;
  /** Receives the `hello-ok` payload (server version, uptime in its snapshot) before the call. */
  onHello?: (hello: unknown) => void;
  /** Events received after the handshake (streamed `agent` / `chat` output). Default none. */
  onEvent?: (event: string, payload: unknown) => void;
}

export class RpcError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

const CLOSE_HINTS: Record<number, string> = {
  1000: "normal closure",
  1006: "abnormal closure",
  1008: "policy violation",
  1009: "message too big",
  1012: "service restart",
  1013: "try again later",
};

interface Res {
  type: "res";
  id: string;
  ok: boolean;
  payload?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

/** Connects, calls `method` once and resolves with its payload. */
export async function callGateway(method: string, params: unknown, o: RpcOptions): Promise<unknown> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const identity: DeviceIdentity | null = o.useDevice === false ? null : await loadOrCreateDeviceIdentity();
  const storedToken = identity && o.stateDir ? await loadDeviceToken(o.stateDir, identity.deviceId, "operator") : undefined;
  const token = o.token ?? storedToken;

  return new Promise<unknown>((resolve, reject) => {
    const pin = o.tlsFingerprint && o.url.startsWith("wss:") ? o.tlsFingerprint : undefined;
    const ws = new WebSocket(o.url, { maxPayload: 25 * 1024 * 1024, handshakeTimeout: timeoutMs, ...(pin ? { rejectUnauthorized: false } : {}) });
    let settled = false;
    let connected = false;
    let challengeTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => finish(new RpcError(`gateway timeout after ${timeoutMs}ms`)), timeoutMs);
    const finish = (err: Error | null, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (challengeTimer) clearTimeout(challengeTimer);
      ws.removeAllListeners("close");
      ws.on("error", () => undefined);
      try {
        ws.close();
      } catch {
        // Closing from the `upgrade` event (pin mismatch): the TLS socket is already destroyed.
      }
      if (err) reject(err);
      else resolve(value);
    };
    const callId = randomUUID();
    const sendConnect = (nonce: string | undefined): void => {
      const client = { id: "cli", version: o.version ?? "dev", platform: process.platform, mode: "cli", instanceId: randomUUID() };
      const params: Record<string, unknown> = { minProtocol: 3, maxProtocol: 3, client, role: "operator", scopes: CLI_SCOPES, caps: [] };
      const auth: Record<string, string> = {};
      if (token) auth.token = token;
      if (o.password) auth.password = o.password;
      if (Object.keys(auth).length) params.auth = auth;
      if (identity) {
        params.device = signConnect(identity, { clientId: "cli", clientMode: "cli", role: "operator", scopes: CLI_SCOPES, token: token ?? "", nonce, signedAt: Date.now() });
      }
      ws.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params }));
    };
    if (pin) {
      // The certificate is checked before the WebSocket opens: nothing is sent before then.
      ws.on("upgrade", (res) => {
        const why = checkPinnedCertificate(res.socket as TLSSocket, pin);
        if (!why) return;
        res.socket.destroy();
        finish(new RpcError(`gateway at ${o.url}: ${why}`));
      });
    }
    ws.on("open", () => {
      if (settled) return;
      // The reference client sends connect without a nonce when no challenge arrives in 750 ms.
      challengeTimer = setTimeout(() => sendConnect(undefined), 750);
    });
    ws.on("message", (data) => {
      let f: { type?: string; event?: string; id?: string; ok?: boolean; payload?: unknown; error?: Res["error"] };
      try {
        f = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (f.type === "event" && f.event === "connect.challenge" && !connected) {
        if (challengeTimer) clearTimeout(challengeTimer);
        challengeTimer = undefined;
        sendConnect((f.payload as { nonce?: string } | undefined)?.nonce);
        return;
      }
      if (f.type === "event" && connected && typeof f.event === "string") {
        o.onEvent?.(f.event, f.payload);
        return;
      }
      if (f.type !== "res") return;
      if (f.id === "connect") {
        if (!f.ok) {
          // A stored device token that failed is dropped so the next attempt uses the shared one.
          if (identity && o.stateDir && storedToken && token === storedToken) void saveDeviceToken(o.stateDir, identity.deviceId, "operator", undefined);
          finish(new RpcError(f.error?.message ?? "connect failed", f.error?.code, f.error?.details));
          return;
        }
        connected = true;
        o.onHello?.(f.payload);
        const hello = f.payload as { auth?: { deviceToken?: string; scopes?: string[] } } | undefined;
        const save =
          identity && o.stateDir && hello?.auth?.deviceToken
            ? saveDeviceToken(o.stateDir, identity.deviceId, "operator", hello.auth.deviceToken, hello.auth.scopes)
            : Promise.resolve();
        save.catch(() => undefined).finally(() => {
          ws.send(JSON.stringify(params === undefined ? { type: "req", id: callId, method } : { type: "req", id: callId, method, params }));
        });
        return;
      }
      if (f.id === callId) {
        if (!f.ok) finish(new RpcError(f.error?.message ?? "request failed", f.error?.code, f.error?.details));
        else if (o.expectFinal && (f.payload as { status?: string } | undefined)?.status === "accepted") return;
        else finish(null, f.payload);
      }
    });
    ws.on("close", (code, reason) => {
      const hint = CLOSE_HINTS[code] ?? "";
      finish(new RpcError(`gateway closed (${code}${hint ? ` ${hint}` : ""}): ${reason.toString() || "no close reason"}`));
    });
    ws.on("error", (err) => finish(new RpcError(`gateway unreachable at ${o.url}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
}
