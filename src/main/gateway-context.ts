/**
 * Everything a handler or the handshake needs, in one place. One instance per server
 * start (an in-process restart builds a fresh one).
 */
import type { Logger } from "pino";
import type { GatewayOptions } from "./options.js";
import type { Connection } from "./server/connection.js";
import type { ConnectionRegistry } from "./server/registry.js";
import type { Transport } from "./server/transport.js";
import type { EventBus } from "./events/event-bus.js";
import type { PresenceStore } from "./presence/presence-store.js";
import type { PresenceBroadcaster } from "./presence/presence-broadcaster.js";
import type { HealthCache } from "./health/health-cache.js";
import type { SystemEventQueue } from "./presence/system-event-queue.js";
import type { MethodTable } from "./router.js";
import type { DevicePairingStore } from "../shared/store/device-pairing-store.js";
import type { HealthSources } from "./health/health-summary.js";
import type { AuthRateLimiter } from "./auth/auth-rate-limit.js";

export interface ConnectionHooks {
  onConnected: (conn: Connection) => void;
  onDisconnected: (conn: Connection) => void;
}

export interface GatewayContext {
  /** Live options; replaced wholesale on a hot reload. */
  options: GatewayOptions;
  readonly startedAt: number;
  readonly log: Logger;
  readonly registry: ConnectionRegistry;
  readonly transport: Transport;
  readonly bus: EventBus;
  readonly presence: PresenceStore;
  readonly presenceBroadcaster: PresenceBroadcaster;
  readonly health: HealthCache;
  readonly healthSources: HealthSources;
  readonly systemEvents: SystemEventQueue;
  readonly methods: MethodTable;
  readonly devices: DevicePairingStore;
  readonly authLimiter: AuthRateLimiter;
  /** Last `heartbeat` event payload (`last-heartbeat`). */
  lastHeartbeat: unknown;
  heartbeatsEnabled: boolean;
  /** Extension points for subsystems that track connections (node registry…). */
  readonly hooks: ConnectionHooks;
  /** True once shutdown began: new work is refused with UNAVAILABLE. */
  shuttingDown: boolean;
}

/** Bumps the presence version and schedules a (coalesced) `presence` broadcast. */
export function presenceChanged(ctx: GatewayContext, broadcast: boolean): void {
  ctx.bus.stateVersion.presence++;
  if (broadcast) ctx.presenceBroadcaster.request();
}
