/**
 * The core of one gateway instance: what the handshake, the router and every module
 * share. Subsystems are modules (module.ts) with their state in their own closures; they
 * are not fields here. One instance per server start (an in-process restart builds a
 * fresh one).
 */
import type { Logger } from "pino";
import type { GatewayOptions } from "./options.js";
import type { Connection } from "./socket/connection.js";
import type { ConnectionRegistry } from "./socket/registry.js";
import type { Transport } from "./socket/transport.js";
import type { EventBus } from "./events/event-bus.js";
import type { PresenceStore } from "./presence/presence-store.js";
import type { PresenceBroadcaster } from "./presence/presence-broadcaster.js";
import type { HealthCache } from "./health/health-cache.js";
import type { SystemEventQueue } from "./presence/system-event-queue.js";
import type { DevicePairingStore } from "../shared/store/device-pairing-store.js";
import type { AuthRateLimiter } from "./auth/auth-rate-limit.js";
import type { CanvasAccess } from "../workers/canvas/canvas-capability.js";

/**
 * The live options: one cell shared by the core and every module. A hot reload replaces
 * `current` wholesale; readers take `current` at each use, never a copy.
 */
export class LiveOptions {
  constructor(public current: GatewayOptions) {}
}

/** Connection events fanned out to the modules' listeners. */
export interface ConnectionEvents {
  opened(conn: Connection): void;
  closed(conn: Connection): void;
}

export interface GatewayContext {
  /** The live options (`live.current`); assigning replaces them for everyone. */
  options: GatewayOptions;
  readonly live: LiveOptions;
  readonly startedAt: number;
  readonly log: Logger;
  readonly registry: ConnectionRegistry;
  readonly transport: Transport;
  readonly bus: EventBus;
  readonly presence: PresenceStore;
  readonly presenceBroadcaster: PresenceBroadcaster;
  readonly health: HealthCache;
  readonly systemEvents: SystemEventQueue;
  readonly devices: DevicePairingStore;
  readonly authLimiter: AuthRateLimiter;
  /** The modules' connection listeners (node registry, …). */
  readonly listeners: ConnectionEvents;
  /** Methods advertised in `hello-ok.features.methods`. */
  readonly advertisedMethods: () => readonly string[];
  /**
   * Canvas capabilities for `hello-ok.canvasHostUrl` (non-loopback canvas binds only); set
   * by the canvas-host module when it issues them, else null.
   */
  canvasAccess: CanvasAccess | null;
  /** Named health sections contributed by modules (`workers`, `channels`, …), read now. */
  readonly healthSections: () => Record<string, unknown>;
  /** Last `heartbeat` event payload (`last-heartbeat`). */
  lastHeartbeat: unknown;
  heartbeatsEnabled: boolean;
  /** Requests being handled; shutdown waits for them (bounded). */
  readonly inflight: InflightCounter;
  /** True once shutdown began: new work is refused with UNAVAILABLE. */
  shuttingDown: boolean;
}

/** One request being handled; `answered` once shutdown replied to it in its place. */
export interface InflightRequest {
  readonly conn: Connection;
  readonly id: string;
  answered: boolean;
}

/**
 * Counts in-flight requests (with their connection and id) and lets shutdown wait
 * until they are done. Requests still unanswered when the wait ends are answered by
 * shutdown (`abandonAll`); their handlers' late results are then dropped by the router
 * (`answered`), so no id is answered twice. Two concurrent requests may share an id:
 * entries are tracked by identity, not by id. One Set add/delete per request.
 */
export class InflightCounter {
  private waiters: (() => void)[] = [];
  private readonly live = new Set<InflightRequest>();

  get count(): number {
    return this.live.size;
  }

  begin(conn: Connection, id: string): InflightRequest {
    const req: InflightRequest = { conn, id, answered: false };
    this.live.add(req);
    return req;
  }

  end(req: InflightRequest): void {
    if (!this.live.delete(req) || this.live.size > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Marks every unanswered request answered and hands it to `answer` (which sends the
   * error frame). The requests still count until their handlers settle.
   */
  abandonAll(answer: (req: InflightRequest) => void): number {
    let k = 0;
    for (const req of this.live) {
      if (req.answered) continue;
      req.answered = true;
      answer(req);
      k++;
    }
    return k;
  }

  /** Resolves true when idle, false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.live.size === 0) return Promise.resolve(true);
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
