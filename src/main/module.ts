/**
 * The seam subsystems plug into. A `GatewayModule` declares its name and what it depends
 * on, and contributes what it owns through the registrar it is handed: its method family,
 * HTTP routes, connection listeners, a named `health` section, the hot-reload actions it
 * applies, and start/stop. Its state lives in the closure of `register`, never as a new
 * field on the core context (fastify plugins with `dependencies`; nats.js capability
 * packages on a small core).
 *
 *   gateway.ts:  core (options cell, log, sockets, transport, bus, presence, devices…)
 *                  └─ modules in dependency order: register → (listen) → start
 *   stop:        modules in reverse order, then the core
 *
 * `ModuleHost` (module-host.ts) orders modules, collects their contributions and
 * dispatches connection events, health reads and reload actions to them.
 */
import type { HotAction } from "../shared/config/reload-plan.js";

/** The `type` of a hot-reload action (`restart-channel`, `reload-hooks`, …). */
export type HotActionType = HotAction["type"];

/** Told about authenticated connections. Exceptions are logged, never propagated. */
export interface ConnectionListener<Conn> {
  /** After `hello-ok` was queued (anything unicast here reaches the client after it). */
  opened?(conn: Conn): void;
  /** After an authenticated socket closed (presence already updated). */
  closed?(conn: Conn): void;
}

/**
 * Start/stop of a module. `stop` runs in reverse dependency order, once, also when the
 * module never started (another module's start failed): it releases what `register`
 * acquired and whatever `start` got to.
 */
export interface ModuleLifecycle {
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** What the module exposes to the lifecycle and tests (`ModuleHost.api(name)`), read at each call. */
  api?: unknown;
}

/** What a module is handed while it registers. `Core`, `Extra` and `Conn` are the host's. */
export interface ModuleRegistrar<Core, Extra, Conn> {
  /** The core services (live options, log, sockets, bus, presence, device store…). */
  readonly core: Core;
  /** Host-specific registration points (the method table, the HTTP mount table). */
  readonly extra: Extra;
  /** Adds a connection listener; listeners run in module order. */
  listen(listener: ConnectionListener<Conn>): void;
  /**
   * Adds a named section to the `health` snapshot (read on each refresh, so it must be
   * cheap and synchronous). Names are unique across modules.
   */
  healthSection(name: string, read: () => unknown): void;
  /**
   * Handles the hot-reload actions of the given types. The handler receives exactly the
   * actions of those types in one reload (never an empty list), after the new options
   * are live.
   */
  onReload(types: readonly HotActionType[], handler: (actions: HotAction[]) => void | Promise<void>): void;
  /**
   * The `api` of a module registered earlier (list it in `dependsOn`), or undefined when it
   * is not loaded or exposes none.
   */
  api<T>(name: string): T | undefined;
}

/** A subsystem. */
export interface GatewayModule<Core, Extra, Conn> {
  /** Unique, kebab-case (`nodes`, `canvas-host`, `agents`). */
  readonly name: string;
  /** Modules that must be registered and started before this one. */
  readonly dependsOn?: readonly string[];
  /**
   * Registers what the module owns and returns its start/stop, if any. May be async (to
   * open the module's own stores); registration of all modules completes before any
   * module starts, and before the server accepts a connection.
   */
  register(r: ModuleRegistrar<Core, Extra, Conn>): ModuleLifecycle | void | Promise<ModuleLifecycle | void>;
}
