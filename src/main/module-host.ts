/**
 * Orders gateway modules by `dependsOn`, runs their `register` with a registrar, and
 * afterwards dispatches to what they contributed: connection listeners, health sections,
 * reload actions, start (dependency order) and stop (reverse order).
 *
 * Ordering is a stable topological sort: modules keep their declared order unless a
 * dependency forces one later, so the same list always yields the same order (and the
 * same method, route and listener order). Unknown dependencies, cycles and duplicate
 * names are programming errors reported at start-up with the module names involved.
 */
import type { Logger } from "pino";
import type { HotAction } from "../shared/config/reload-plan.js";
import { GatewayError } from "../shared/errors.js";
import type { ConnectionListener, GatewayModule, HotActionType, ModuleLifecycle, ModuleRegistrar } from "./module.js";

interface ReloadRoute {
  module: string;
  types: ReadonlySet<HotActionType>;
  handler: (actions: HotAction[]) => void | Promise<void>;
}

/** Modules in an order where each comes after everything it depends on. */
export function orderModules<M extends { name: string; dependsOn?: readonly string[] }>(modules: readonly M[]): M[] {
  const byName = new Map<string, M>();
  for (const m of modules) {
    if (byName.has(m.name)) throw new GatewayError("GW_ERR_MODULE_GRAPH", `duplicate gateway module "${m.name}"`, { module: m.name });
    byName.set(m.name, m);
  }
  for (const m of modules) {
    for (const dep of m.dependsOn ?? []) {
      if (!byName.has(dep)) {
        throw new GatewayError("GW_ERR_MODULE_GRAPH", `gateway module "${m.name}" depends on "${dep}", which is not loaded`, { module: m.name, dependsOn: dep });
      }
    }
  }
  const out: M[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (m: M, path: string[]): void => {
    const s = state.get(m.name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...path.slice(path.indexOf(m.name)), m.name];
      throw new GatewayError("GW_ERR_MODULE_GRAPH", `gateway modules depend on each other in a cycle: ${cycle.join(" -> ")}`, { cycle });
    }
    state.set(m.name, "visiting");
    for (const dep of m.dependsOn ?? []) visit(byName.get(dep) as M, [...path, m.name]);
    state.set(m.name, "done");
    out.push(m);
  };
  for (const m of modules) visit(m, []);
  return out;
}

/** Runs modules and dispatches to their contributions. */
export class ModuleHost<Core, Extra, Conn> {
  private readonly listeners: { module: string; listener: ConnectionListener<Conn> }[] = [];
  private readonly sections = new Map<string, { module: string; read: () => unknown }>();
  private readonly reloads: ReloadRoute[] = [];
  private readonly lifecycles: { module: string; lc: ModuleLifecycle }[] = [];
  private readonly order: string[] = [];
  private stopped = false;

  constructor(private readonly log: Logger) {}

  /** Module names in the order they were registered. */
  get names(): readonly string[] {
    return this.order;
  }

  /** What a module exposed as `api` (tests, the lifecycle); undefined when it exposes none. */
  api<T>(name: string): T | undefined {
    return this.lifecycles.find((l) => l.module === name)?.lc.api as T | undefined;
  }

  /**
   * Orders and registers `modules`, one after the other (nothing starts yet). When a
   * registration fails, the modules registered before it are stopped (their `stop` runs,
   * so stores they opened are closed) and the error is rethrown.
   */
  async register(modules: readonly GatewayModule<Core, Extra, Conn>[], core: Core, extra: Extra): Promise<void> {
    for (const m of orderModules(modules)) {
      const r: ModuleRegistrar<Core, Extra, Conn> = {
        core,
        extra,
        listen: (listener) => this.listeners.push({ module: m.name, listener }),
        healthSection: (name, read) => {
          const prev = this.sections.get(name);
          if (prev) throw new GatewayError("GW_ERR_MODULE_GRAPH", `health section "${name}" of module "${m.name}" is already contributed by "${prev.module}"`, { section: name });
          this.sections.set(name, { module: m.name, read });
        },
        onReload: (types, handler) => this.reloads.push({ module: m.name, types: new Set(types), handler }),
        api: <T>(name: string) => this.api<T>(name),
      };
      let lc: ModuleLifecycle | void;
      try {
        lc = await m.register(r);
      } catch (err) {
        this.log.error({ module: m.name, err: String(err) }, "gateway module failed to register");
        await this.stop();
        throw err;
      }
      this.order.push(m.name);
      if (lc) this.lifecycles.push({ module: m.name, lc });
    }
  }

  /** Starts modules in order; on failure stops every registered module and rethrows. */
  async start(): Promise<void> {
    for (const { module, lc } of this.lifecycles) {
      try {
        await lc.start?.();
      } catch (err) {
        this.log.error({ module, err: String(err) }, "gateway module failed to start");
        await this.stop();
        throw err;
      }
    }
  }

  /**
   * Stops every registered module once, in reverse order — also modules that never
   * started (a later module's start failed): `stop` releases what `register` acquired
   * and whatever `start` got to. A failing stop is logged and the rest still stop.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const entry of [...this.lifecycles].reverse()) {
      try {
        await entry.lc.stop?.();
      } catch (err) {
        this.log.error({ module: entry.module, err: String(err) }, "gateway module failed to stop cleanly");
      }
    }
  }

  /** Calls every listener's `opened`. */
  opened(conn: Conn): void {
    for (const { module, listener } of this.listeners) {
      if (!listener.opened) continue;
      try {
        listener.opened(conn);
      } catch (err) {
        this.log.error({ module, err: String(err) }, "connection listener failed (opened)");
      }
    }
  }

  /** Calls every listener's `closed`. */
  closed(conn: Conn): void {
    for (const { module, listener } of this.listeners) {
      if (!listener.closed) continue;
      try {
        listener.closed(conn);
      } catch (err) {
        this.log.error({ module, err: String(err) }, "connection listener failed (closed)");
      }
    }
  }

  /** Every contributed health section, read now. A failing read reports `{error}`. */
  healthSections(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, { module, read }] of this.sections) {
      try {
        out[name] = read();
      } catch (err) {
        this.log.warn({ module, section: name, err: String(err) }, "health section failed");
        out[name] = { error: String(err) };
      }
    }
    return out;
  }

  /**
   * Routes each hot action to the modules that handle its type. Returns the action types
   * no module handles (the lifecycle logs them: a change that takes effect through the
   * live options alone, or one for a subsystem that is not loaded).
   */
  async dispatchReload(actions: readonly HotAction[]): Promise<HotActionType[]> {
    const unhandled = new Set<HotActionType>(actions.map((a) => a.type));
    for (const route of this.reloads) {
      const mine = actions.filter((a) => route.types.has(a.type));
      if (mine.length === 0) continue;
      for (const a of mine) unhandled.delete(a.type);
      try {
        await route.handler(mine);
      } catch (err) {
        this.log.error({ module: route.module, actions: mine.map((a) => a.type), err: String(err) }, "module failed to apply a config reload");
      }
    }
    return [...unhandled];
  }
}
