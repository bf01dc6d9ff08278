/**
 * Config hot-reload watcher (§8.4).
 *
 * Watches the config file *and* its directory: editors and `writeConfigFile` replace
 * the file by renaming a temp file over it, which a watch on the old inode alone never
 * sees. Events are debounced (default `gateway.reload.debounceMs`, 300 ms), then the
 * file is reloaded and validated:
 *
 *   valid + changed    → `change {prev, next, plan, decision, snapshot}`
 *   valid + unchanged  → `unchanged {snapshot}`
 *   invalid / missing  → `invalid {path, issues, snapshot}`; the last good config stays
 *
 * The watcher never throws and never rejects: filesystem trouble is reported as a
 * `warning` event. Handles are unref'd so a watcher never keeps the process alive.
 * Files pulled in with `$include` are not watched (edit the main file to reload).
 */
import { EventEmitter } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

import type { ResolvedConfig } from "./defaults.js";
import { loadConfig } from "./load-config.js";
import type { ConfigSnapshot } from "./load-config.js";
import type { Env } from "./paths.js";
import { decideReload, planReload } from "./reload-plan.js";
import type { ReloadDecision, ReloadPlan } from "./reload-plan.js";
import type { ConfigIssue } from "./validate.js";

/** Payload of `change`. */
export interface ConfigChangeEvent {
  prev: ResolvedConfig;
  next: ResolvedConfig;
  plan: ReloadPlan;
  /** Decided with the *new* config's `gateway.reload.mode`. */
  decision: ReloadDecision;
  snapshot: ConfigSnapshot;
}

/** Payload of `invalid`. */
export interface ConfigInvalidEvent {
  path: string;
  issues: ConfigIssue[];
  snapshot: ConfigSnapshot;
}

/** Events of `ConfigWatcher`. */
export interface ConfigWatcherEvents {
  change: [ConfigChangeEvent];
  invalid: [ConfigInvalidEvent];
  unchanged: [{ snapshot: ConfigSnapshot }];
  warning: [Error];
}

/** Options of `ConfigWatcher`. */
export interface ConfigWatcherOptions {
  /** Config file to watch (absolute path). */
  path: string;
  /** The config currently in effect (last good). */
  initial: ResolvedConfig;
  /** Environment for `${VAR}` substitution on reload. Default `process.env`. */
  env?: Env;
  /** Debounce window in ms. Default: the live config's `gateway.reload.debounceMs` (300). */
  debounceMs?: number;
  /** Loader, injectable for tests. Default `loadConfig({path, env})`. */
  load?: (file: string) => Promise<ConfigSnapshot>;
}

/** Watches one config file; see the module comment. Call `start()`, later `close()`. */
export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> {
  readonly path: string;
  /** Reload attempts so far (one per debounced burst). */
  reloads = 0;
  private currentConfig: ResolvedConfig;
  private readonly load: (file: string) => Promise<ConfigSnapshot>;
  private readonly debounceOverride: number | undefined;
  private fileWatcher: fs.FSWatcher | undefined;
  private dirWatcher: fs.FSWatcher | undefined;
  private watchedIno: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private pending = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private arming: Promise<void> = Promise.resolve();

  constructor(opts: ConfigWatcherOptions) {
    super();
    this.path = path.resolve(opts.path);
    this.currentConfig = opts.initial;
    this.debounceOverride = opts.debounceMs;
    const env = opts.env;
    this.load = opts.load ?? ((file) => loadConfig({ path: file, env }));
  }

  /** The config in effect (last good one). */
  get current(): ResolvedConfig {
    return this.currentConfig;
  }

  /** Starts watching. Idempotent. */
  start(): this {
    if (this.closed || this.dirWatcher !== undefined) return this;
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    try {
      this.dirWatcher = fs.watch(dir, { persistent: false }, (_event, filename) => {
        // A rename in the directory may be a new inode for our file: re-arm the file watch.
        if (filename === null || filename.toString() === base) {
          this.armFileWatcher();
          this.schedule();
        }
      });
      this.dirWatcher.on("error", (err) => this.warn(err));
      this.dirWatcher.unref();
    } catch (err) {
      this.warn(new Error(`cannot watch config directory ${dir}: ${(err as Error).message}`));
    }
    this.armFileWatcher();
    return this;
  }

  /** Stops watching; pending reloads are dropped. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.fileWatcher?.close();
    this.dirWatcher?.close();
    this.fileWatcher = undefined;
    this.dirWatcher = undefined;
    this.resolveIdle();
  }

  /** Reloads now (bypassing the debounce), e.g. on SIGHUP. Resolves when done. */
  async reloadNow(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = true;
    await this.drain();
  }

  private debounceMs(): number {
    return this.debounceOverride ?? this.currentConfig.gateway.reload.debounceMs;
  }

  private warn(err: Error): void {
    if (this.closed) return;
    this.emit("warning", err);
  }

  /** (Re)watches the file itself; serialised so two directory events never race. */
  private armFileWatcher(): void {
    this.arming = this.arming.then(() => this.rearm());
  }

  /**
   * Catches in-place writes on the current inode. After a rename the old watch points
   * at a dead inode, so the inode is compared and the watch replaced. If another rename
   * lands between the stat and the watch, the recorded inode is stale and the next
   * directory event re-arms again — the directory watch covers the gap.
   */
  private async rearm(): Promise<void> {
    if (this.closed) return;
    let ino: number | undefined;
    try {
      ino = (await fsp.stat(this.path)).ino;
    } catch {
      ino = undefined;
    }
    if (this.closed) return;
    if (ino !== undefined && ino === this.watchedIno && this.fileWatcher !== undefined) return;
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    this.watchedIno = undefined;
    if (ino === undefined) return;
    try {
      const w = fs.watch(this.path, { persistent: false }, () => this.schedule());
      w.on("error", () => {
        w.close();
        if (this.fileWatcher === w) {
          this.fileWatcher = undefined;
          this.watchedIno = undefined;
        }
      });
      w.unref();
      this.fileWatcher = w;
      this.watchedIno = ino;
    } catch {
      // The file vanished between stat and watch; the directory watch covers its return.
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pending = true;
      void this.drain();
    }, this.debounceMs());
    this.timer.unref();
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Runs reloads one at a time until no reload is pending. */
  private async drain(): Promise<void> {
    if (this.running) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      return;
    }
    this.running = true;
    try {
      while (this.pending && !this.closed) {
        this.pending = false;
        await this.reloadOnce();
      }
    } finally {
      this.running = false;
      this.resolveIdle();
    }
  }

  private async reloadOnce(): Promise<void> {
    this.reloads++;
    let snapshot: ConfigSnapshot;
    try {
      snapshot = await this.load(this.path);
    } catch (err) {
      this.warn(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.closed) return;
    this.armFileWatcher();
    if (!snapshot.exists) {
      const issues: ConfigIssue[] = [
        { path: "", message: `config file ${this.path} is missing; keeping the last good config`, code: "GW_ERR_CONFIG_INVALID" },
      ];
      this.emit("invalid", { path: this.path, issues, snapshot });
      return;
    }
    if (!snapshot.valid) {
      this.emit("invalid", { path: this.path, issues: snapshot.issues, snapshot });
      return;
    }
    const plan = planReload(this.currentConfig, snapshot.config);
    if (plan.changedPaths.length === 0) {
      this.emit("unchanged", { snapshot });
      return;
    }
    const prev = this.currentConfig;
    const next = snapshot.config;
    this.currentConfig = next;
    const decision = decideReload(plan, next.gateway.reload.mode);
    this.emit("change", { prev, next, plan, decision, snapshot });
  }
}

/** Creates and starts a `ConfigWatcher`. */
export function watchConfig(opts: ConfigWatcherOptions): ConfigWatcher {
  return new ConfigWatcher(opts).start();
}
