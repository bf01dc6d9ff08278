/**
 * Builds the core of one gateway instance on a uWS app: the live options cell, the
 * socket registry, the transport with its slow-consumer policy, the event bus, presence,
 * the health cache and the in-flight counter. Modules are built on top of it
 * (gateway.ts); the server wires uWS callbacks to it (server/gateway-server.ts).
 */
import type { TemplatedApp } from "uWebSockets.js";
import type { Logger } from "pino";
import type { DevicePairingStore } from "../shared/store/device-pairing-store.js";
import { AuthRateLimiter, rateLimitKey } from "./auth/auth-rate-limit.js";
import { EventBus } from "./events/event-bus.js";
import { InflightCounter, LiveOptions, type ConnectionEvents, type GatewayContext } from "./gateway-context.js";
import { HealthCache } from "./health/health-cache.js";
import { buildHealthSummary } from "./health/health-summary.js";
import type { GatewayOptions } from "./options.js";
import { PresenceBroadcaster } from "./presence/presence-broadcaster.js";
import { PresenceStore } from "./presence/presence-store.js";
import { SystemEventQueue } from "./presence/system-event-queue.js";
import type { Connection } from "./socket/connection.js";
import { ConnectionRegistry } from "./socket/registry.js";
import { CLOSE_POLICY, Transport } from "./socket/transport.js";
import { DeadlineQueue } from "./timers/deadline-queue.js";
import { DEFAULT_STUCK_READER_MS, StuckReaderMonitor } from "./socket/stuck-readers.js";

/** A slow consumer's close frame is sent once its backlog is below this. */
export const SLOW_CLOSE_FLUSH_BELOW = 64 * 1024;
/** A slow consumer that does not drain within this is cut without a close frame. */
const SLOW_CLOSE_DEADLINE_MS = 30_000;

/** What the core is built from besides the options. */
export interface GatewayCoreDeps {
  app: TemplatedApp;
  log: Logger;
  devices: DevicePairingStore;
  /** The modules' connection listeners. */
  listeners: ConnectionEvents;
  /** The modules' health sections. */
  healthSections: () => Record<string, unknown>;
  /** Methods advertised in hello-ok. */
  advertisedMethods: () => readonly string[];
}

/** The core and what only the server and the lifecycle touch. */
export interface GatewayCore {
  ctx: GatewayContext;
  /** Cuts draining slow consumers after their deadline; closed on shutdown. */
  drainDeadlines: DeadlineQueue<{ deadline: number; conn: Connection }>;
  /** Closes readers whose backlog stays over the limit without draining; started with the server. */
  stuckReaders: StuckReaderMonitor;
}

export function createGatewayCore(options: GatewayOptions, deps: GatewayCoreDeps): GatewayCore {
  const { app, log } = deps;
  const live = new LiveOptions(options);
  // Budgets share the auth limiter's address key: IPv6 clients by /64.
  const registry = new ConnectionRegistry(rateLimitKey);
  const closeSlow = (conn: Connection, what: string): void => {
    log.warn({ connId: conn.connId, ip: conn.info.clientIp, what, buffered: conn.ws?.getBufferedAmount() }, "slow consumer closed");
    transport.closeWhenDrained(conn, CLOSE_POLICY, "slow consumer", SLOW_CLOSE_FLUSH_BELOW);
  };
  const drainDeadlines = new DeadlineQueue<{ deadline: number; conn: Connection }>((item) => transport.expireDraining(item.conn));
  const stuckReaders = new StuckReaderMonitor({
    limit: () => live.current.policy.maxBufferedBytes,
    stuckMs: () => live.current.stuckReaderMs ?? DEFAULT_STUCK_READER_MS,
    candidates: () => registry.operators,
    onStuck: (conn) => closeSlow(conn, "stuck reader"),
  });
  const onBackpressure = (conn: Connection): void => stuckReaders.noteBackpressure(conn);
  const transport = new Transport({
    onSlowConsumer: closeSlow,
    onDraining: (conn) => drainDeadlines.add({ deadline: Date.now() + SLOW_CLOSE_DEADLINE_MS, conn }),
    onBackpressure,
  });
  const bus = new EventBus({ app, registry, maxBufferedBytes: () => live.current.policy.maxBufferedBytes, onSlowConsumer: closeSlow, onBackpressure });
  const presence = new PresenceStore(options.presenceMaxEntries, options.version);
  const health = new HealthCache({
    compute: () => buildHealthSummary({ stateDir: live.current.stateDir, sections: deps.healthSections() }),
    onChange: (json) => {
      bus.stateVersion.health++;
      bus.broadcast("health", undefined, { payloadJson: json, withStateVersion: true });
    },
    intervalMs: options.healthRefreshMs,
  });
  const presenceBroadcaster = new PresenceBroadcaster({
    send: () => bus.broadcast("presence", undefined, { payloadJson: `{"presence":${presence.listJson()}}`, withStateVersion: true }),
    windowMs: () => live.current.presenceBroadcastWindowMs,
  });
  const ctx: GatewayContext = {
    get options() {
      return live.current;
    },
    set options(next: GatewayOptions) {
      live.current = next;
    },
    live,
    startedAt: Date.now(),
    log,
    registry,
    transport,
    bus,
    presence,
    presenceBroadcaster,
    health,
    systemEvents: new SystemEventQueue(),
    devices: deps.devices,
    authLimiter: new AuthRateLimiter({ loopback: options.authThrottle }),
    listeners: deps.listeners,
    canvasAccess: null,
    advertisedMethods: deps.advertisedMethods,
    healthSections: deps.healthSections,
    lastHeartbeat: null,
    heartbeatsEnabled: true,
    shuttingDown: false,
    inflight: new InflightCounter(),
  };
  return { ctx, drainDeadlines, stuckReaders };
}
