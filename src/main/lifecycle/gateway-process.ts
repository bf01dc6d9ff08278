/**
 * The long-running gateway process: owns the current gateway instance, the config
 * watcher and the signal handlers.
 *
 *   SIGTERM / SIGINT → graceful stop (shutdown event, 1012 closes, bounded drain) → exit 0
 *   SIGUSR1          → in-process restart when authorised (commands.restart=true);
 *                      config reloads that need a restart take the same path directly
 *   config change    → per gateway.reload.mode: hot-apply, restart, or log and ignore
 *
 * The channels module is loaded only when a channel account is configured (channels-to-run.ts).
 * A hot-applied change that configures the first account therefore has no module to apply it
 * to: in mode `hybrid` the process restarts in-process (the SIGUSR1 path), which loads the
 * module; in mode `hot` that restart is reported as needed and not done. Loading the module
 * into the running instance instead would leave methods already advertised in hello-ok and
 * the cluster's channel leases (set up at start) out of step; a restart rebuilds them all.
 */
import type { Logger } from "pino";
import { loadConfig, assertValidConfig } from "../../shared/config/load-config.js";
import type { ResolvedConfig } from "../../shared/config/defaults.js";
import { ConfigWatcher } from "../../shared/config/config-watcher.js";
import type { ConfigChangeEvent } from "../../shared/config/config-watcher.js";
import type { Env } from "../../shared/config/paths.js";
import type { GatewayLogger } from "../../shared/log/logger.js";
import { collectConfigSecrets } from "../../shared/log/secrets.js";
import { startGateway, type GatewayInstance } from "../gateway.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { HotAction } from "../../shared/config/reload-plan.js";
import type { ReloadMode } from "../../shared/config/schema/index.js";
import { resolveRuntime, type GatewayRunFlags, type ResolvedRuntime } from "./runtime-options.js";
import { channelsToRun } from "./channels-to-run.js";
import { CHANNELS_MODULE } from "../channels/channels-loader.js";

/** Upper bound of a graceful stop before the process exits anyway (below systemd's/launchd's stop timeouts). */
export const STOP_BUDGET_MS = 5000;
export const RESTART_EXPECTED_MS = 1500;
/** How long an in-process restart keeps retrying the bind (lingering TIME_WAIT sockets). */
export const RESTART_BIND_RETRY_MS = 90_000;

export interface GatewayProcessOptions {
  flags: GatewayRunFlags;
  env: Env;
  paths: { configPath: string; stateDir: string };
  config: ResolvedConfig;
  logger: GatewayLogger;
  /** Modules loaded besides the built-in ones (canvas host, …); rebuilt on every (re)start. */
  modules?: (runtime: ResolvedRuntime) => GatewayModuleDef[];
  /** Called after each successful (re)start. */
  onStarted?: (runtime: ResolvedRuntime, instance: GatewayInstance) => void;
}

export class GatewayProcess {
  private instance: GatewayInstance | null = null;
  private runtime: ResolvedRuntime | null = null;
  private watcher: ConfigWatcher | null = null;
  private config: ResolvedConfig;
  private transition: Promise<void> = Promise.resolve();
  private exiting = false;
  private boundPort: number | null = null;
  readonly log: Logger;
  /** Resolves with the exit code when the process should exit. */
  readonly done: Promise<number>;
  private resolveDone!: (code: number) => void;

  constructor(private readonly o: GatewayProcessOptions) {
    this.config = o.config;
    this.log = o.logger.logger;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get current(): GatewayInstance | null {
    return this.instance;
  }

  get currentRuntime(): ResolvedRuntime | null {
    return this.runtime;
  }

  /** First start; throws on failure (caller maps to an exit code). */
  async start(): Promise<void> {
    await this.startInstance();
    this.watch();
    this.installSignals();
  }

  private async startInstance(): Promise<void> {
    const runtime = await resolveRuntime(this.config, this.o.flags, this.o.env, this.o.paths);
    // Port 0 means "any free port" for the first start only: a restart re-binds the port
    // clients already know.
    if (runtime.options.port === 0 && this.boundPort !== null) runtime.options.port = this.boundPort;
    this.o.logger.setSecrets(this.secrets(runtime));
    const channels = channelsToRun(() => (this.config as { channels?: unknown }).channels, this.o.env, this.o.paths.stateDir);
    this.instance = await startGateway(runtime.options, this.log, { modules: this.o.modules?.(runtime) ?? [], ...(channels ? { channels } : {}) });
    this.runtime = runtime;
    this.boundPort = this.instance.server.port;
    this.o.onStarted?.(runtime, this.instance);
  }

  private secrets(runtime: ResolvedRuntime): string[] {
    const out = collectConfigSecrets(this.config, this.o.env);
    if (runtime.options.auth.token) out.push(runtime.options.auth.token);
    if (runtime.options.auth.password) out.push(runtime.options.auth.password);
    return out;
  }

  private async stopInstance(reason: string, restartExpectedMs: number | null): Promise<void> {
    const inst = this.instance;
    this.instance = null;
    if (inst) await inst.stop(reason, restartExpectedMs);
  }

  /** Serialises lifecycle transitions (a restart never overlaps a stop). */
  private queue(fn: () => Promise<void>): Promise<void> {
    this.transition = this.transition.then(fn, fn);
    return this.transition;
  }

  /**
   * This uWS build sets no SO_REUSEADDR: connections we just closed linger on the port
   * (FIN_WAIT/TIME_WAIT) and make the re-bind fail for up to a minute. Our own
   * listener is closed, so a bind failure here is that, not another gateway: retry.
   */
  private async startWithBindRetry(): Promise<void> {
    const deadline = Date.now() + RESTART_BIND_RETRY_MS;
    let delay = 100;
    for (;;) {
      try {
        await this.startInstance();
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== "GW_ERR_SERVER_LISTEN" || Date.now() + delay > deadline) throw err;
        this.log.warn({ retryInMs: delay }, "port still held by closing connections; retrying bind");
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /** In-process restart: same PID, listener fully closed before re-binding. */
  restart(reason: string): Promise<void> {
    return this.queue(async () => {
      if (this.exiting) return;
      this.log.info({ reason }, "gateway restarting in-process");
      await this.stopInstance("gateway restarting", RESTART_EXPECTED_MS);
      try {
        const snap = await loadConfig({ path: this.o.paths.configPath, env: this.o.env });
        this.config = assertValidConfig(snap);
      } catch (err) {
        this.log.error({ err: String(err) }, "config invalid at restart; keeping the last good config");
      }
      try {
        await this.startWithBindRetry();
        this.watcher?.close();
        this.watch();
      } catch (err) {
        this.log.fatal({ err: String(err) }, "gateway failed to restart");
        this.finish(1);
      }
    });
  }

  /** Graceful stop, bounded by STOP_BUDGET_MS; resolves `done` with 0. */
  stop(signal: string): Promise<void> {
    if (this.exiting) return this.transition;
    this.exiting = true;
    this.log.info({ signal }, "gateway stopping");
    const force = setTimeout(() => {
      this.log.warn({ budgetMs: STOP_BUDGET_MS }, "graceful stop budget exceeded; exiting");
      this.finish(0);
    }, STOP_BUDGET_MS);
    force.unref();
    return this.queue(async () => {
      this.watcher?.close();
      await this.stopInstance("gateway stopping", null);
      clearTimeout(force);
      this.finish(0);
    });
  }

  private finish(code: number): void {
    this.removeSignals();
    this.resolveDone(code);
  }

  private watch(): void {
    const w = new ConfigWatcher({ path: this.o.paths.configPath, initial: this.config, env: this.o.env });
    w.on("change", (e) => void this.onConfigChange(e));
    w.on("invalid", (e) =>
      this.log.error({ path: e.path, issues: e.issues.map((i) => `${i.path}: ${i.message}`) }, "config reload rejected: file is invalid; keeping the last good config"),
    );
    w.on("warning", (err) => this.log.warn({ err: String(err) }, "config watcher warning"));
    w.start();
    this.watcher = w;
  }

  private async onConfigChange(e: ConfigChangeEvent): Promise<void> {
    const d = e.decision;
    switch (d.action) {
      case "noop":
        return;
      case "ignore":
        this.log.info({ reason: d.reason }, "config changed; reload is off");
        return;
      case "restart":
        this.config = e.next;
        this.log.info({ reason: d.reason }, "config changed; restarting");
        await this.restart(d.reason);
        return;
      case "hot":
        if (d.skippedRestartPaths.length > 0) this.log.error({ paths: d.skippedRestartPaths }, d.reason);
        await this.applyHot(e.next, d.reason, d.hotActions);
        await this.loadChannelsIfConfigured(d.mode);
    }
  }

  /** Restarts in-process (mode `hybrid`) when channels are now configured but their module is not loaded. */
  private async loadChannelsIfConfigured(mode: ReloadMode): Promise<void> {
    const inst = this.instance;
    if (!inst || inst.module(CHANNELS_MODULE) !== undefined) return;
    if (!channelsToRun(() => (this.config as { channels?: unknown }).channels, this.o.env, this.o.paths.stateDir)) return;
    const reason = "a channel account is configured and the channels module is not loaded";
    if (mode !== "hybrid") {
      this.log.error({ reason }, `channels need a gateway restart and were not started (gateway.reload.mode="${mode}"); restart the gateway or use mode "hybrid"`);
      return;
    }
    this.log.info({ reason }, "config changed; restarting to load the channels module");
    await this.restart(reason);
  }

  /** Swaps in the new options, then hands each hot action to the module that owns it. */
  private async applyHot(next: ResolvedConfig, reason: string, actions: readonly HotAction[]): Promise<void> {
    const inst = this.instance;
    if (!inst || !this.runtime) return;
    try {
      const runtime = await resolveRuntime(next, this.o.flags, this.o.env, this.o.paths);
      const live = inst.server.ctx.options;
      // Bound address, canvas port and frame ceiling stay as started (restart-class changes).
      const options = { ...runtime.options, host: live.host, port: live.port, canvasHostPort: live.canvasHostPort };
      this.config = next;
      this.runtime = { ...runtime, options };
      this.o.logger.setSecrets(this.secrets(runtime));
      const unhandled = await inst.reload(options, actions);
      this.log.info({ reason, ...(unhandled.length > 0 ? { appliedByOptionsOnly: unhandled } : {}) }, "config hot-applied");
    } catch (err) {
      this.log.error({ err: String(err) }, "config change could not be applied; keeping the last good config");
    }
  }

  private readonly onTerm = (): void => void this.stop("SIGTERM");
  private readonly onInt = (): void => void this.stop("SIGINT");
  private readonly onUsr1 = (): void => {
    if (this.config.commands.restart !== true) {
      this.log.warn("SIGUSR1 ignored: set commands.restart=true to allow restarts by signal");
      return;
    }
    void this.restart("SIGUSR1");
  };

  private installSignals(): void {
    process.on("SIGTERM", this.onTerm);
    process.on("SIGINT", this.onInt);
    process.on("SIGUSR1", this.onUsr1);
  }

  private removeSignals(): void {
    process.off("SIGTERM", this.onTerm);
    process.off("SIGINT", this.onInt);
    process.off("SIGUSR1", this.onUsr1);
  }
}
