/**
 * The `connect` handshake (§2.1–§2.11), run for the first frame of a socket.
 *
 * Checks are synchronous: the paired-device store is read from memory and Ed25519
 * verification is a few tens of microseconds. Checks run in the order of the reference's
 * failure matrix, with its exact messages and close codes.
 *
 * Persist before acknowledging (group commit): a handshake that changed what the store
 * holds about its device (silent pairing, a minted token, new role/scopes, a pending
 * request) sends its answer only once the store's write carrying that change is on disk
 * (temp file, fsync, rename, fsync of the directory). Every handshake that changed the
 * state meanwhile waits for the SAME write, and all their `hello-ok`s go out together when it
 * completes, so a connect storm costs one or two writes at a time, not one per device. A
 * reconnect of an unchanged device does not wait. A failed write answers UNAVAILABLE
 * (retryable) and closes 1013; a socket closed during the wait gets nothing.
 */
import type { ErrorShape } from "../../shared/errors.js";
import { PROTOCOL_VERSION } from "../../shared/protocol/version.js";
import { check } from "../../shared/protocol/validate.js";
import { resolveScopes, type Role } from "../../shared/protocol/scopes.js";
import type { ConnectParams } from "../../shared/protocol/generated/types.js";
import { pairingStatus } from "../../shared/store/device-pairing-types.js";
import { checkDeviceIdentity } from "../auth/device-identity.js";
import { authorizeShared, classifyAuthClient } from "../auth/shared-auth.js";
import { AUTH_RATE_LIMITED_MESSAGE } from "../auth/auth-rate-limit.js";
import { viewOf } from "../events/event-policy.js";
import { presenceChanged, type GatewayContext } from "../gateway-context.js";
import { Phase, type Connection } from "../socket/connection.js";
import { CLOSE_NORMAL, CLOSE_POLICY, CLOSE_PROTOCOL_ERROR, CLOSE_TRY_AGAIN_LATER } from "../socket/transport.js";
import { encodeOkRaw } from "../socket/frames.js";
import { parseRequestFrame } from "../socket/parse-request-frame.js";
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { STATE_UNSAVED, afterCommit, handshakeCommit } from "./handshake-commit.js";
import { helloOkJson, type HelloAuth } from "./hello.js";
import { CLOSE_AUTH_CHANGED, recordSessionAuth, sharedAuthChanged, type SessionAuth } from "./session-auth.js";

/** Fails the handshake: optional `res` error, then close. */
function reject(ctx: GatewayContext, conn: Connection, id: string, error: ErrorShape, code: number, reason: string): void {
  ctx.transport.sendError(conn, id, error);
  ctx.transport.close(conn, code, reason);
  if (error.message.startsWith("unauthorized")) {
    ctx.log.warn({ connId: conn.connId, ip: conn.info.clientIp, reason: error.message }, "handshake auth failed");
  } else {
    ctx.log.debug({ connId: conn.connId, ip: conn.info.clientIp, reason: error.message }, "handshake rejected");
  }
}

function fail(ctx: GatewayContext, conn: Connection, id: string, message: string, code = "INVALID_REQUEST"): void {
  reject(ctx, conn, id, { code: code as ErrorShape["code"], message }, CLOSE_POLICY, message);
}

/**
 * Handles the first frame of a pending socket. `replay` dispatches the frames a client
 * pipelined behind `connect` once hello-ok went out (the server's post-handshake path).
 */
export function handleHandshakeFrame(ctx: GatewayContext, conn: Connection, text: string, replay: (text: string) => void): void {
  const parsed = parseRequestFrame(text);
  if (parsed.kind === "not-json") {
    ctx.transport.close(conn, CLOSE_NORMAL);
    return;
  }
  if (parsed.kind === "invalid") {
    ctx.transport.close(conn, CLOSE_POLICY, "invalid request frame");
    return;
  }
  const frame = parsed.frame;
  const id = frame.id;
  if (frame.method !== "connect") {
    fail(ctx, conn, id, "invalid handshake: first request must be connect");
    return;
  }
  const params = check("ConnectParams", frame.params);
  if (!params.ok) {
    fail(ctx, conn, id, `invalid connect params: ${params.details}`);
    return;
  }
  const value = params.value;
  // Loopback failures are paid for by escalating delay: the attempt may run later (or be refused).
  ctx.authLimiter.attempt(conn.info.clientIp, (admitted) => {
    if (conn.phase !== Phase.Pending || conn.ws === null) return;
    if (admitted) connect(ctx, conn, id, value, replay);
    else fail(ctx, conn, id, AUTH_RATE_LIMITED_MESSAGE);
  });
}

function connect(ctx: GatewayContext, conn: Connection, id: string, p: ConnectParams, replay: (text: string) => void): void {
  const opts = ctx.options;
  if (p.maxProtocol < PROTOCOL_VERSION || p.minProtocol > PROTOCOL_VERSION) {
    reject(
      ctx,
      conn,
      id,
      { code: "INVALID_REQUEST", message: "protocol mismatch", details: { expectedProtocol: PROTOCOL_VERSION } },
      CLOSE_PROTOCOL_ERROR,
      "protocol mismatch",
    );
    return;
  }
  const roleRaw = p.role ?? "operator";
  if (roleRaw !== "operator" && roleRaw !== "node") {
    fail(ctx, conn, id, "invalid role");
    return;
  }
  const role: Role = roleRaw;
  const scopesAsSent = p.scopes ?? [];
  const scopes = resolveScopes(role, p.scopes);
  const isControlUi = p.client.id === "clawdbot-control-ui";
  const device = p.device;
  const token = p.auth?.token;
  const password = p.auth?.password;
  const insecureUi = isControlUi && opts.controlUi.allowInsecureAuth;

  if (!device) {
    if (isControlUi && !insecureUi) {
      fail(ctx, conn, id, "control ui requires HTTPS or localhost (secure context)");
      return;
    }
    const hasSecret = insecureUi ? Boolean(token || password) : Boolean(token);
    if (!hasSecret) {
      fail(ctx, conn, id, "device identity required", "NOT_PAIRED");
      return;
    }
  }

  const ip = conn.info.clientIp;
  if (!ctx.authLimiter.check(ip).allowed) {
    fail(ctx, conn, id, AUTH_RATE_LIMITED_MESSAGE);
    return;
  }

  let deviceId: string | undefined;
  let publicKey: string | undefined;
  if (device) {
    const r = checkDeviceIdentity(device, {
      clientId: p.client.id,
      clientMode: p.client.mode,
      role,
      scopes: scopesAsSent,
      token: token ?? null,
      challengeNonce: conn.nonce,
      isLocal: conn.info.isLocal,
    });
    if (!r.ok) {
      fail(ctx, conn, id, r.message);
      return;
    }
    deviceId = r.deviceId;
    publicKey = r.publicKey;
  }

  const shared = authorizeShared({ auth: opts.auth, connectAuth: p.auth, clientKind: classifyAuthClient(p.client) });
  let authOk = shared.ok;
  if (!shared.ok && deviceId && token) {
    authOk = ctx.devices.verifyDeviceToken(deviceId, role, token, scopes).ok;
  }
  const via: SessionAuth = shared.ok || deviceId === undefined ? { kind: "shared" } : { kind: "device-token", deviceId, role };
  if (!authOk && !shared.ok) {
    ctx.authLimiter.recordFailure(ip);
    fail(ctx, conn, id, shared.message);
    return;
  }

  let helloAuth: HelloAuth | undefined;
  if (deviceId && publicKey && !(insecureUi && shared.ok)) {
    // What the device record learns about this client, on a new request or a reconnect.
    const meta = {
      displayName: p.client.displayName,
      platform: p.client.platform,
      clientId: p.client.id,
      clientMode: p.client.mode,
      role,
      scopes,
      remoteIp: ip,
    };
    let pairingRequired: string | undefined;
    try {
      const status = pairingStatus(ctx.devices.peekPaired(deviceId), publicKey, role, scopes);
      if (!status.ok) {
        const { request } = ctx.devices.requestPairing({ deviceId, publicKey, ...meta, silent: conn.info.isLocal });
        if (request.silent) ctx.devices.approve(request.requestId);
        else pairingRequired = request.requestId;
      } else {
        ctx.devices.updateMetadata(deviceId, meta);
      }
      if (pairingRequired === undefined) {
        const t = ctx.devices.ensureDeviceToken(deviceId, role, scopes);
        if (t) helloAuth = { deviceToken: t.token, role, scopes: t.scopes, issuedAtMs: t.rotatedAtMs ?? t.createdAtMs };
      }
    } catch (err) {
      // The store is closed (shutdown) or refused the change: nothing was acknowledged.
      ctx.log.warn({ connId: conn.connId, err: String(err) }, "handshake could not update the pairing store");
      reject(ctx, conn, id, { code: "UNAVAILABLE", message: STATE_UNSAVED, retryable: true }, CLOSE_TRY_AGAIN_LATER, STATE_UNSAVED);
      return;
    }
    const answer =
      pairingRequired === undefined
        ? () => {
            // A shared secret checked before a reload that replaced it no longer admits anyone.
            if (via.kind === "shared" && sharedAuthChanged(opts.auth, ctx.options.auth)) {
              reject(ctx, conn, id, { code: "INVALID_REQUEST", message: "gateway auth changed" }, CLOSE_AUTH_CHANGED, "gateway auth changed");
              return;
            }
            accept(ctx, conn, id, p, role, scopes, deviceId, helloAuth, via);
          }
        : () =>
            reject(
              ctx,
              conn,
              id,
              { code: "NOT_PAIRED", message: "pairing required", details: { requestId: pairingRequired } },
              CLOSE_POLICY,
              "pairing required",
            );
    const barrier = handshakeCommit.waitForDisk ? ctx.devices.durableBarrier(deviceId) : undefined;
    if (barrier !== undefined) {
      const refuse = (): void =>
        reject(ctx, conn, id, { code: "UNAVAILABLE", message: STATE_UNSAVED, retryable: true }, CLOSE_TRY_AGAIN_LATER, STATE_UNSAVED);
      afterCommit(ctx, conn, barrier, answer, refuse, replay);
      return;
    }
    answer();
    return;
  }
  accept(ctx, conn, id, p, role, scopes, deviceId, helloAuth, via);
}

function accept(
  ctx: GatewayContext,
  conn: Connection,
  id: string,
  p: ConnectParams,
  role: Role,
  scopes: string[],
  deviceId: string | undefined,
  helloAuth: HelloAuth | undefined,
  via: SessionAuth,
): void {
  const ws = conn.ws;
  if (!ws) return;
  recordSessionAuth(conn, via);
  conn.role = role;
  conn.scopes = scopes;
  // Kept for the connection's lifetime: without the credentials and the signed device
  // block (a secret has no business staying in memory, and at 15k nodes they were a
  // fifth of the per-connection heap). deviceId is on the connection.
  const { auth: _auth, device: _device, ...kept } = p;
  conn.params = kept;
  conn.deviceId = deviceId;
  conn.connectedAtMs = Date.now();
  ctx.registry.markReady(conn);

  if (p.client.mode !== "cli") {
    conn.presenceKey = deviceId ?? p.client.instanceId ?? conn.connId;
    ctx.presence.upsert(conn.presenceKey, {
      host: p.client.displayName ?? p.client.id,
      ip: conn.info.isLocal ? undefined : conn.info.clientIp,
      version: p.client.version,
      platform: p.client.platform,
      deviceFamily: p.client.deviceFamily,
      modelIdentifier: p.client.modelIdentifier,
      mode: p.client.mode,
      deviceId,
      roles: [role],
      scopes,
      instanceId: deviceId ?? p.client.instanceId,
      reason: "connect",
    });
    presenceChanged(ctx, false);
  }

  const hello = encodeOkRaw(id, helloOkJson(ctx, conn, helloAuth));
  ws.cork(() => {
    gatewayMetrics.frameOut(hello.length);
    ws.send(hello, false);
    ws.subscribe(viewOf(role, scopes).topic);
    // After hello-ok, so that anything a hook unicasts (voicewake.changed to a node)
    // reaches the client after the connect response.
    ctx.listeners.opened(conn);
  });
  ctx.log.debug({ connId: conn.connId, client: p.client.id, mode: p.client.mode, role }, "handshake ok");
}
