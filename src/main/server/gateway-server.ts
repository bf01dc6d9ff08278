/**
 * The gateway's main-thread server: one uWS App serving the WebSocket control plane
 * and HTTP on one port.
 *
 *   upgrade ─ origin check (403 before the 101) ─ per-IP pre-auth budget
 *   open    ─ connect.challenge, handshake deadline (shared queue)
 *   message ─ pending: handshake │ ready: validate → authorise → dispatch
 *   close   ─ presence (coalesced broadcast), registry, subsystem hooks
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from "uWebSockets.js";
import type { Logger } from "pino";
import { loadUws } from "../../shared/uws/load-uws.js";
import { GatewayError } from "../../shared/errors.js";
import { classifyPeer } from "../auth/client-ip.js";
import { Connection, Phase, type SocketData } from "./connection.js";
import { ConnectionRegistry } from "./registry.js";
import { DEFAULT_PRE_AUTH_MAX_TOTAL, PRE_AUTH_EVICTED_REASON, PRE_AUTH_MAX_PAYLOAD } from "./pre-auth-budget.js";
import { Transport, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER, CLOSE_TOO_BIG } from "./transport.js";
import { encodeEvent } from "./frames.js";
import { isOriginAllowed } from "./origin-check.js";
import { handleRequestFrame } from "./inbound.js";
import { handleHandshakeFrame } from "../handshake/handshake.js";
import { DeadlineQueue } from "../timers/deadline-queue.js";
import { EventBus } from "../events/event-bus.js";
import { PresenceStore } from "../presence/presence-store.js";
import { PresenceBroadcaster } from "../presence/presence-broadcaster.js";
import { SystemEventQueue } from "../presence/system-event-queue.js";
import { HealthCache } from "../health/health-cache.js";
import { buildHealthSummary, type HealthSources } from "../health/health-summary.js";
import { createMethodTable } from "../methods/index.js";
import type { MethodTable } from "../router.js";
import { InflightCounter, presenceChanged, type ConnectionHooks, type GatewayContext } from "../gateway-context.js";
import type { GatewayOptions } from "../options.js";
import type { DevicePairingStore } from "../../shared/store/device-pairing-store.js";
import type { NodePairingStore } from "../../shared/store/node-pairing-store.js";
import { NodeService } from "../nodes/node-service.js";
import { AuthRateLimiter } from "../auth/auth-rate-limit.js";
import { registerHttpRoutes, type HttpRouteDeps } from "../http/routes.js";

interface NativeAppExtras {
  listen(host: string, port: number, options: number, cb: (ls: us_listen_socket | false) => void): TemplatedApp;
  close(): void;
}

export interface GatewayServerDeps {
  log: Logger;
  devices: DevicePairingStore;
  /** Legacy node pairing store (`nodes/{pending,paired}.json`). */
  nodePairing: NodePairingStore;
  /** Extra health inputs (channels, workers); defaults to none. */
  healthSources?: Partial<Omit<HealthSources, "stateDir">>;
  hooks?: Partial<ConnectionHooks>;
  http?: HttpRouteDeps;
  /** Extra (plugin) methods; unlisted names are admin-scoped like the reference's plugin methods. */
  registerMethods?: (table: MethodTable) => void;
}

export interface GatewayServer {
  readonly ctx: GatewayContext;
  readonly app: TemplatedApp;
  readonly port: number;
  readonly host: string;
  /** Broadcasts `shutdown`, closes every socket with 1012 and the listener. */
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

/** How long shutdown waits for in-flight requests (well below supervisors' stop timeouts). */
const SHUTDOWN_DRAIN_MS = 2000;

/** A slow consumer's close frame is sent once its backlog is below this. */
const SLOW_CLOSE_FLUSH_BELOW = 64 * 1024;
/** A slow consumer that does not drain within this is cut without a close frame. */
const SLOW_CLOSE_DEADLINE_MS = 30_000;

function text(buf: ArrayBuffer): string {
  return Buffer.from(buf).toString("utf8");
}

/** Starts listening; rejects with a coded error when the port cannot be bound. */
export async function startGatewayServer(options: GatewayOptions, deps: GatewayServerDeps): Promise<GatewayServer> {
  const uws = loadUws();
  // The binding supports listen(host, port, options, cb) and close(), which its typings omit.
  const app = uws.App() as TemplatedApp & NativeAppExtras;
  const registry = new ConnectionRegistry();
  const log = deps.log;

  let ctxRef: GatewayContext | null = null;
  const closeSlow = (conn: Connection, what: string): void => {
    log.warn({ connId: conn.connId, ip: conn.info.clientIp, what, buffered: conn.ws?.getBufferedAmount() }, "slow consumer closed");
    transport.closeWhenDrained(conn, CLOSE_POLICY, "slow consumer", SLOW_CLOSE_FLUSH_BELOW);
  };
  const drainDeadlines = new DeadlineQueue<{ deadline: number; conn: Connection }>((item) => transport.expireDraining(item.conn));
  const transport = new Transport({
    onSlowConsumer: closeSlow,
    onDraining: (conn) => drainDeadlines.add({ deadline: Date.now() + SLOW_CLOSE_DEADLINE_MS, conn }),
  });
  const bus = new EventBus({
    app,
    registry,
    maxBufferedBytes: () => (ctxRef ? ctxRef.options.policy.maxBufferedBytes : options.policy.maxBufferedBytes),
    onSlowConsumer: closeSlow,
  });
  const presence = new PresenceStore(options.presenceMaxEntries, options.version);
  const healthSources: HealthSources = {
    stateDir: () => ctx.options.stateDir,
    channels: deps.healthSources?.channels ?? (() => ({})),
    workers: deps.healthSources?.workers ?? (() => []),
  };
  const health = new HealthCache({
    compute: () => buildHealthSummary(healthSources),
    onChange: (json) => {
      bus.stateVersion.health++;
      bus.broadcast("health", undefined, { payloadJson: json, withStateVersion: true });
    },
    intervalMs: options.healthRefreshMs,
  });
  const presenceBroadcaster = new PresenceBroadcaster({
    send: () => bus.broadcast("presence", undefined, { payloadJson: `{"presence":${presence.listJson()}}`, withStateVersion: true }),
    windowMs: () => ctx.options.presenceBroadcastWindowMs,
  });
  const systemEvents = new SystemEventQueue();
  const nodes = new NodeService({ log, bus, options: () => ctx.options, pairing: deps.nodePairing, systemEvents });
  const extraHooks = deps.hooks;
  const ctx: GatewayContext = {
    options,
    startedAt: Date.now(),
    log,
    registry,
    transport,
    bus,
    presence,
    presenceBroadcaster,
    health,
    healthSources,
    systemEvents,
    methods: createMethodTable(deps.registerMethods),
    devices: deps.devices,
    authLimiter: new AuthRateLimiter(),
    nodes,
    hooks: {
      onConnected: (conn) => {
        nodes.onConnected(conn);
        extraHooks?.onConnected?.(conn);
      },
      onDisconnected: (conn) => {
        nodes.onDisconnected(conn);
        extraHooks?.onDisconnected?.(conn);
      },
    },
    lastHeartbeat: null,
    heartbeatsEnabled: true,
    shuttingDown: false,
    inflight: new InflightCounter(),
  };
  ctxRef = ctx;

  const deadlines = new DeadlineQueue<Connection>((conn) => {
    if (conn.phase !== Phase.Pending) return;
    log.debug({ connId: conn.connId, ip: conn.info.clientIp }, "handshake timeout");
    transport.close(conn, CLOSE_NORMAL);
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
      const o = ctx.options;
      const evicted = registry.admitPending(conn, { maxPerIp: o.preAuthMaxPerIp, maxTotal: o.preAuthMaxTotal ?? DEFAULT_PRE_AUTH_MAX_TOTAL });
      for (const old of evicted) {
        log.debug({ connId: old.connId, ip: old.info.clientIp }, "pre-auth budget full; oldest unauthenticated socket evicted");
        transport.close(old, CLOSE_TRY_AGAIN_LATER, PRE_AUTH_EVICTED_REASON);
      }
      ws.send(encodeEvent("connect.challenge", { nonce: conn.nonce, ts: Date.now() }), false);
      conn.deadline = Date.now() + ctx.options.handshakeTimeoutMs;
      deadlines.add(conn);
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
      const conn = ws.getUserData().conn;
      if (message.byteLength > (conn.phase === Phase.Pending ? PRE_AUTH_MAX_PAYLOAD : ctx.options.policy.maxPayload)) {
        log.warn({ connId: conn.connId, bytes: message.byteLength }, "frame over maxPayload");
        transport.close(conn, CLOSE_TOO_BIG, "message too big");
        return;
      }
      const body = text(message);
      if (conn.phase === Phase.Pending) {
        // Frames after `connect`, while its evaluation waits its turn, are ignored.
        if (conn.connectReceived) return;
        conn.connectReceived = true;
        deadlines.cancel(conn);
        handleHandshakeFrame(ctx, conn, body);
      } else if (conn.phase === Phase.Ready) {
        handleRequestFrame(ctx, conn, body);
      }
    },
    drain: (ws: WebSocket<SocketData>) => {
      transport.onDrain(ws.getUserData().conn, SLOW_CLOSE_FLUSH_BELOW);
    },
    close: (ws: WebSocket<SocketData>, code: number) => {
      const conn = ws.getUserData().conn;
      const wasReady = conn.phase === Phase.Ready || conn.phase === Phase.Draining;
      deadlines.cancel(conn);
      registry.remove(conn);
      if (!wasReady) return;
      log.debug({ connId: conn.connId, code }, "client disconnected");
      if (conn.presenceKey) {
        ctx.presence.upsert(conn.presenceKey, { reason: "disconnect" });
        presenceChanged(ctx, true);
      }
      try {
        ctx.hooks.onDisconnected(conn);
      } catch (err) {
        log.error({ err: String(err) }, "disconnect hook failed");
      }
    },
  });

  registerHttpRoutes(app, ctx, deps.http ?? {});

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
  const port = uws.us_socket_local_port(listenSocket as unknown as Parameters<typeof uws.us_socket_local_port>[0]);

  await nodes.start(options.stateDir);
  await health.start();
  const tickTimer = setInterval(() => {
    bus.broadcast("tick", { ts: Date.now() });
  }, options.policy.tickIntervalMs);
  tickTimer.unref();

  let closed: Promise<void> | null = null;
  const close = (reason: string, restartExpectedMs: number | null): Promise<void> => {
    closed ??= (async () => {
      ctx.shuttingDown = true;
      clearInterval(tickTimer);
      health.stop();
      presenceBroadcaster.stop();
      deadlines.close();
      drainDeadlines.close();
      uws.us_listen_socket_close(listenSocket);
      bus.broadcast("shutdown", { reason, restartExpectedMs });
      // Requests already being handled get their responses before the sockets close.
      const drained = await ctx.inflight.idle(SHUTDOWN_DRAIN_MS);
      if (!drained) log.warn({ inflight: ctx.inflight.count }, "shutdown drain budget exceeded; closing with requests in flight");
      for (const conn of [...registry.open]) transport.close(conn, CLOSE_SERVICE_RESTART, "service restart");
      nodes.close();
      // Let uWS flush the close frames before the caller exits or re-binds.
      await new Promise<void>((r) => setImmediate(r));
      app.close();
    })();
    return closed;
  };

  log.info({ host: options.host, port }, "gateway listening");
  return { ctx, app, port, host: options.host, close };
}
