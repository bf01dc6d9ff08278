/**
 * The gateway's main-thread server: one uWS App serving the WebSocket control plane
 * and HTTP on one port.
 *
 *   upgrade ─ origin check (403 before the 101) ─ per-IP pre-auth budget
 *   open    ─ connect.challenge, handshake deadline (shared queue); evictions and expired
 *             deadlines are closed in slices between loop turns (socket/pre-auth-closes.ts)
 *   message ─ pending: handshake │ ready: validate → authorise → dispatch
 *   close   ─ presence (coalesced broadcast), registry, subsystem hooks
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from "uWebSockets.js";
import { loadUws } from "../../shared/uws/load-uws.js";
import { GatewayError } from "../../shared/errors.js";
import { classifyPeer } from "../auth/client-ip.js";
import { Connection, Phase, type SocketData } from "../socket/connection.js";
import { DEFAULT_PRE_AUTH_MAX_TOTAL, PRE_AUTH_EVICTED_REASON, PRE_AUTH_MAX_PAYLOAD } from "../socket/pre-auth-budget.js";
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { CLOSE_NORMAL, CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER, CLOSE_TOO_BIG } from "../socket/transport.js";
import { encodeEvent } from "../socket/frames.js";
import type { PreparedTls } from "./tls.js";
import { isOriginAllowed } from "./origin-check.js";
import { handleRequestFrame } from "./inbound.js";
import { handleHandshakeFrame } from "../handshake/handshake.js";
import { holdWhileCommitting } from "../handshake/handshake-commit.js";
import { DeadlineQueue } from "../timers/deadline-queue.js";
import { PreAuthCloses, type PreAuthClose } from "../socket/pre-auth-closes.js";
import { presenceChanged, type GatewayContext } from "../gateway-context.js";
import { SLOW_CLOSE_FLUSH_BELOW, type GatewayCore } from "../gateway-core.js";
import type { HttpMountTable } from "../http/mount-table.js";
import type { MethodTable } from "../router.js";
import { registerHttpRoutes } from "../http/routes.js";

interface NativeAppExtras {
  listen(host: string, port: number, options: number, cb: (ls: us_listen_socket | false) => void): TemplatedApp;
  close(): void;
}

/** A uWS app with the two calls of the native binding its typings omit. */
export type GatewayApp = TemplatedApp & NativeAppExtras;

/**
 * Creates the app the core publishes on and the server listens with: an `SSLApp` serving
 * wss:// when TLS is prepared (never plaintext when TLS was asked for), else a plain App.
 */
export function createGatewayApp(tls: PreparedTls | null): GatewayApp {
  const uws = loadUws();
  return (tls ? uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uws.App()) as GatewayApp;
}

/** What the server wires besides the core. */
export interface GatewayServerParts {
  app: GatewayApp;
  core: GatewayCore;
  methods: MethodTable;
  /** The HTTP mount table the modules mounted into. */
  http: HttpMountTable;
  /** The served certificate (wss://), or null. */
  tls: PreparedTls | null;
}

export interface GatewayServer {
  readonly ctx: GatewayContext;
  readonly app: TemplatedApp;
  readonly port: number;
  readonly host: string;
  /** The served certificate when `gateway.tls` is enabled (wss://), else null. */
  readonly tls: PreparedTls | null;
  /**
   * Broadcasts `shutdown`, waits (bounded) for in-flight requests, answers the ones still
   * unanswered with UNAVAILABLE (retryable), closes every socket with 1012 and the listener.
   */
  close(reason: string, restartExpectedMs: number | null): Promise<void>;
}

/**
 * uWS's maxPayloadLength. Frames between maxPayload and this get a 1009 close frame; beyond it
 * uWS cuts the TCP stream. It is also the most a socket can make uWS buffer as one unfinished
 * frame — before authentication too (uWS has one limit per route, so pending sockets cannot get
 * a smaller one) — hence only 64 KiB of slack over maxPayload.
 */
export function hardPayloadCeiling(maxPayload: number): number {
  return maxPayload + 64 * 1024;
}

/** How a socket evicted by the pre-auth budget is closed. */
const EVICTED_CLOSE: PreAuthClose = { code: CLOSE_TRY_AGAIN_LATER, reason: PRE_AUTH_EVICTED_REASON };
/** How a socket past its handshake deadline is closed. */
const DEADLINE_CLOSE: PreAuthClose = { code: CLOSE_NORMAL, reason: "" };

/** How long shutdown waits for in-flight requests (well below supervisors' stop timeouts). */
const SHUTDOWN_DRAIN_MS = 2000;

/** The answer to a request still in flight when shutdown closes the sockets. */
const SHUTDOWN_ERROR = {
  code: "UNAVAILABLE",
  message: "gateway is shutting down; retry after the restart",
  retryable: true,
} as const;

function text(buf: ArrayBuffer): string {
  return Buffer.from(buf).toString("utf8");
}

/** Wires the uWS callbacks to the core and starts listening; rejects with a coded error when the port cannot be bound. */
export async function startGatewayServer(parts: GatewayServerParts): Promise<GatewayServer> {
  const { app, methods } = parts;
  const { ctx, drainDeadlines, stuckReaders } = parts.core;
  const { tls } = parts;
  const { log, registry, transport } = ctx;
  const options = ctx.options;
  // Closes decided in bursts (a flood's evictions, deadlines expiring together) are sent in
  // short slices between loop turns, so authenticated clients are not stalled behind them.
  const preAuthCloses = new PreAuthCloses((conn, code, reason) => transport.close(conn, code, reason));
  const deadlines = new DeadlineQueue<Connection>((conn) => {
    if (conn.phase !== Phase.Pending) return;
    log.debug({ connId: conn.connId, ip: conn.info.clientIp }, "handshake timeout");
    registry.releasePreAuth(conn);
    preAuthCloses.add(conn, DEADLINE_CLOSE);
  });

  app.ws<SocketData>("/*", {
    // uWS drops a socket whose frame exceeds maxPayloadLength with a bare TCP close (the
    // client sees 1006). To answer "too big" with a proper 1009 close frame, as the
    // reference does, uWS gets 64 KiB of slack and `message` enforces policy.maxPayload
    // (64 KiB before hello-ok); only frames beyond the ceiling are cut without a close frame.
    maxPayloadLength: hardPayloadCeiling(options.policy.maxPayload),
    maxBackpressure: options.policy.maxBufferedBytes,
    closeOnBackpressureLimit: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const key = req.getHeader("sec-websocket-key");
      const protocol = req.getHeader("sec-websocket-protocol");
      const extensions = req.getHeader("sec-websocket-extensions");
      const origin = req.getHeader("origin");
      const host = req.getHeader("host");
      const peer = {
        remoteAddress: text(res.getRemoteAddressAsText()),
        forwardedFor: req.getHeader("x-forwarded-for"),
        realIp: req.getHeader("x-real-ip"),
        forwardedHost: req.getHeader("x-forwarded-host"),
        host,
      };
      const forwardedProto = req.getHeader("x-forwarded-proto");
      const o = ctx.options;
      if (ctx.shuttingDown) {
        res.writeStatus("503 Service Unavailable").end("gateway is shutting down");
        return;
      }
      if (!isOriginAllowed(origin, host, { allowedOrigins: o.controlUi.allowedOrigins, bindHost: o.host })) {
        log.warn({ origin, host, ip: peer.remoteAddress }, "websocket upgrade refused: origin not allowed");
        res.writeStatus("403 Forbidden").writeHeader("Content-Type", "text/plain").end("origin not allowed");
        return;
      }
      const placed = classifyPeer(peer, o.trustedProxies);
      const conn = new Connection(randomUUID(), randomUUID(), {
        remoteAddress: peer.remoteAddress,
        clientIp: placed.clientIp ?? peer.remoteAddress,
        isLocal: placed.isLocal,
        localDirect: placed.localDirect,
        host,
        forwardedProto,
      });
      res.upgrade<SocketData>({ conn }, key, protocol, extensions, context);
    },
    open: (ws: WebSocket<SocketData>) => {
      const conn = ws.getUserData().conn;
      conn.ws = ws;
      gatewayMetrics.socketsOpened++;
      const o = ctx.options;
      const evicted = registry.admitPending(conn, { maxPerIp: o.preAuthMaxPerIp, maxTotal: o.preAuthMaxTotal ?? DEFAULT_PRE_AUTH_MAX_TOTAL });
      for (const old of evicted) {
        log.debug({ connId: old.connId, ip: old.info.clientIp }, "pre-auth budget full; oldest unauthenticated socket evicted");
        preAuthCloses.add(old, EVICTED_CLOSE);
      }
      const challenge = encodeEvent("connect.challenge", { nonce: conn.nonce, ts: Date.now() });
      gatewayMetrics.frameOut(challenge.length);
      ws.send(challenge, false);
      conn.deadline = Date.now() + ctx.options.handshakeTimeoutMs;
      deadlines.add(conn);
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
      const conn = ws.getUserData().conn;
      gatewayMetrics.frameIn(message.byteLength);
      const preAuth = conn.phase === Phase.Pending || conn.phase === Phase.Closing;
      if (message.byteLength > (preAuth ? PRE_AUTH_MAX_PAYLOAD : ctx.options.policy.maxPayload)) {
        log.warn({ connId: conn.connId, bytes: message.byteLength }, "frame over maxPayload");
        gatewayMetrics.tooBigCloses++;
        transport.close(conn, CLOSE_TOO_BIG, "message too big");
        return;
      }
      const body = text(message);
      if (conn.phase === Phase.Pending) {
        // Frames after `connect`: held while its pairing state is being committed (answered
        // after hello-ok), ignored while the connect itself still waits its auth turn.
        if (conn.connectReceived) {
          holdWhileCommitting(ctx, conn, body);
          return;
        }
        conn.connectReceived = true;
        deadlines.cancel(conn);
        handleHandshakeFrame(ctx, conn, body, (held) => handleRequestFrame(ctx, methods, conn, held));
      } else if (conn.phase === Phase.Ready) {
        handleRequestFrame(ctx, methods, conn, body);
      }
    },
    drain: (ws: WebSocket<SocketData>) => {
      const conn = ws.getUserData().conn;
      stuckReaders.onDrain(conn);
      transport.onDrain(conn, SLOW_CLOSE_FLUSH_BELOW);
    },
    close: (ws: WebSocket<SocketData>, code: number) => {
      const conn = ws.getUserData().conn;
      const wasReady = conn.phase === Phase.Ready || conn.phase === Phase.Draining;
      deadlines.cancel(conn);
      registry.remove(conn);
      if (!wasReady) gatewayMetrics.handshakeFailed(code);
      if (!wasReady) return;
      log.debug({ connId: conn.connId, code }, "client disconnected");
      if (conn.presenceKey) {
        ctx.presence.upsert(conn.presenceKey, { reason: "disconnect" });
        presenceChanged(ctx, true);
      }
      ctx.listeners.closed(conn);
    },
  });

  const releaseHttp = registerHttpRoutes(app, ctx, parts.http);

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    // 1 = LIBUS_LISTEN_EXCLUSIVE_PORT: without it uSockets sets SO_REUSEPORT and a second
    // gateway would silently share the port instead of failing.
    app.listen(options.host, options.port, 1, (ls: us_listen_socket | false) => {
      if (ls) resolve(ls);
      else
        reject(
          new GatewayError(
            "GW_ERR_SERVER_LISTEN",
            `Gateway failed to start: another gateway instance is already listening on ws://${options.host}:${options.port} (or the address cannot be bound)`,
            { host: options.host, port: options.port },
          ),
        );
    });
  });
  const uws = loadUws();
  const port = uws.us_socket_local_port(listenSocket as unknown as Parameters<typeof uws.us_socket_local_port>[0]);

  await ctx.health.start();
  const tickTimer = setInterval(() => {
    ctx.bus.broadcast("tick", { ts: Date.now() });
  }, options.policy.tickIntervalMs);
  tickTimer.unref();
  stuckReaders.start();

  let closed: Promise<void> | null = null;
  const close = (reason: string, restartExpectedMs: number | null): Promise<void> => {
    closed ??= (async () => {
      ctx.shuttingDown = true;
      clearInterval(tickTimer);
      stuckReaders.stop();
      ctx.health.stop();
      ctx.presenceBroadcaster.stop();
      deadlines.close();
      preAuthCloses.stop();
      releaseHttp();
      drainDeadlines.close();
      uws.us_listen_socket_close(listenSocket);
      ctx.bus.broadcast("shutdown", { reason, restartExpectedMs });
      // Requests already being handled get their responses before the sockets close.
      const drained = await ctx.inflight.idle(SHUTDOWN_DRAIN_MS);
      if (!drained) {
        // Whatever is still running (a node.invoke waiting for its node…) is answered
        // now, before the 1012 close, so no client is left guessing about a request.
        const answered = ctx.inflight.abandonAll((req) => transport.sendError(req.conn, req.id, SHUTDOWN_ERROR));
        log.warn({ inflight: ctx.inflight.count, answered }, "shutdown drain budget exceeded; answered in-flight requests with UNAVAILABLE");
      }
      for (const conn of [...registry.open]) transport.close(conn, CLOSE_SERVICE_RESTART, "service restart");
      // Let uWS flush the close frames before the caller exits or re-binds.
      await new Promise<void>((r) => setImmediate(r));
      app.close();
    })();
    return closed;
  };

  if (tls) {
    log.info(
      { host: options.host, port, tlsFingerprintSha256: tls.fingerprintSha256, generated: tls.generated },
      `gateway listening on wss:// (TLS certificate SHA-256 fingerprint ${tls.fingerprintSha256})`,
    );
  } else log.info({ host: options.host, port }, "gateway listening");
  return { ctx, app, port, host: options.host, tls, close };
}
