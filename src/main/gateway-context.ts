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
import type { NodeService } from "./nodes/node-service.js";
import type { CanvasAccess } from "../workers/canvas/canvas-capability.js";

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
  /** Node registry, invokes, subscriptions and the legacy node pairing store. */
  readonly nodes: NodeService;
  /** Last `heartbeat` event payload (`last-heartbeat`). */
  lastHeartbeat: unknown;
  heartbeatsEnabled: boolean;
  /** Extension points for subsystems that track connections (node registry…). */
  readonly hooks: ConnectionHooks;
  /** Canvas capabilities for `hello-ok.canvasHostUrl` (non-loopback canvas binds only). */
  readonly canvasAccess: CanvasAccess | null;
  /** Requests being handled; shutdown waits for them (bounded). */
  readonly inflight: InflightCounter;
  /** True once shutdown began: new work is refused with UNAVAILABLE. */
  shuttingDown: boolean;
}

/** Counts in-flight requests and lets shutdown wait until they are done. */
export class InflightCounter {
  private n = 0;
  private waiters: (() => void)[] = [];

  get count(): number {
    return this.n;
  }

  begin(): void {
    this.n++;
  }

  end(): void {
    this.n--;
    if (this.n === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves true when idle, false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.n === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Bumps the presence version and schedules a (coalesced) `presence` broadcast. */
export function presenceChanged(ctx: GatewayContext, broadcast: boolean): void {
  ctx.bus.stateVersion.presence++;
  if (broadcast) ctx.presenceBroadcaster.request();
}
