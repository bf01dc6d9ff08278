/**
 * `gateway install|uninstall|start|stop|restart` as operations returning the §9.3
 * lifecycle result `{ok, action, result?, message?, error?, hints?, warnings?, service?}`.
 * Nothing here prints; the command layer renders the result as text or JSON.
 */
import { existsSync } from "node:fs";
import os from "node:os";

import { loadConfig } from "../../shared/config/load-config.js";
import { resolveConfigPath, type Env } from "../../shared/config/paths.js";
import { resolveGatewayPort } from "../../shared/config/ports.js";
import { ServiceCommandError, type ServiceManager } from "./service-manager.js";
import { buildServiceSpec, SERVICE_NODE_FLAGS, type ServiceSpec } from "./service-spec.js";

/** A lifecycle action. */
export type LifecycleAction = "install" | "uninstall" | "start" | "stop" | "restart";

/** The `--json` result of a lifecycle command (§9.3). */
export interface LifecycleResult {
  ok: boolean;
  action: LifecycleAction;
  /** installed | reinstalled | already-installed | uninstalled | not-installed | started | stopped | restarted. */
  result?: string;
  message?: string;
  error?: string;
  hints?: string[];
  warnings?: string[];
  service?: { label: string; loaded: boolean; loadedText: string; notLoadedText: string; definitionPath: string };
}

/** Options of `installService`. */
export interface InstallOptions {
  env: Env;
  /** Default `os.homedir()`. */
  homedir?: string;
  version: string;
  /** `--port`; default: CLAWDBOT_GATEWAY_PORT > gateway.port > 18789. */
  port?: string;
  /** `--token`: embedded as CLAWDBOT_GATEWAY_TOKEN. Default none. */
  token?: string;
  /** `--force`: rewrite and re-register even when installed. Default false. */
  force?: boolean;
  /** Node binary / CLI entry overrides (tests). Defaults: this node, dist/src/cli/entry.js. */
  nodePath?: string;
  cliEntry?: string;
}

function failure(action: LifecycleAction, err: unknown): LifecycleResult {
  const hints = err instanceof ServiceCommandError ? err.hints : [];
  return { ok: false, action, error: err instanceof Error ? err.message : String(err), ...(hints.length ? { hints } : {}) };
}

/** Attaches the supervisor's view (`loaded`) to a result; best effort. */
export async function withServiceState(mgr: ServiceManager, r: LifecycleResult): Promise<LifecycleResult> {
  const inspection = await mgr.inspect().catch(() => ({ loaded: false }));
  return {
    ...r,
    service: { label: mgr.label, loaded: inspection.loaded, loadedText: mgr.loadedText, notLoadedText: mgr.notLoadedText, definitionPath: mgr.definitionPath },
  };
}

/** The spec `install` writes for these options (also used by `doctor`). */
export async function resolveInstallSpec(mgr: ServiceManager, o: InstallOptions): Promise<{ spec: ServiceSpec; port: number; warnings: string[] }> {
  const warnings: string[] = [];
  const configPath = resolveConfigPath(o.env, o.homedir ?? os.homedir());
  const snap = await loadConfig({ path: configPath, env: o.env, homedir: o.homedir });
  if (!snap.valid) warnings.push(`config at ${configPath} is invalid: the service will exit 78 until it is fixed (run \`clawdbot doctor\`)`);
  else if (!snap.exists) warnings.push(`no config at ${configPath}: the gateway refuses to start without gateway.mode=local (run \`clawdbot setup\`)`);
  const port = resolveGatewayPort({ flag: o.port, env: o.env, config: snap.config }).port;
  if (port === 0) throw new ServiceCommandError("a service needs a fixed port, not 0", ["Pass --port <1-65535> or set gateway.port."]);
  const spec = buildServiceSpec({
    manager: mgr.kind,
    env: o.env,
    homedir: o.homedir,
    port,
    token: o.token,
    version: o.version,
    nodePath: o.nodePath,
    cliEntry: o.cliEntry,
    platform: mgr.kind === "launchd" ? "darwin" : "linux",
  });
  const entry = spec.programArguments[1 + SERVICE_NODE_FLAGS.length] ?? "";
  if (!existsSync(entry)) warnings.push(`${entry} does not exist yet: run \`npm run build\` before the service starts`);
  return { spec, port, warnings };
}

/** `gateway install`: write the definition and register it; a no-op when installed unless `force`. */
export async function installService(mgr: ServiceManager, o: InstallOptions): Promise<LifecycleResult> {
  try {
    const { spec, port, warnings } = await resolveInstallSpec(mgr, o);
    const text = mgr.render(spec);
    const existing = await mgr.readDefinition();
    const base = { ok: true, action: "install" as const, ...(warnings.length ? { warnings } : {}) };
    if (existing !== null && o.force !== true) {
      const upToDate = existing === text;
      const w = upToDate ? warnings : [...warnings, `${mgr.definitionPath} differs from what install writes now: rerun with --force (or \`clawdbot doctor --fix\`) to update it`];
      return withServiceState(mgr, {
        ...base,
        ...(w.length ? { warnings: w } : {}),
        result: "already-installed",
        message: `${mgr.label} is already installed at ${mgr.definitionPath}${upToDate ? "" : " (out of date)"}; nothing changed (use --force to reinstall)`,
      });
    }
    await mgr.writeDefinition(text, spec);
    await mgr.activate();
    const result = existing === null ? "installed" : "reinstalled";
    return withServiceState(mgr, { ...base, result, message: `${result} ${mgr.kindText} ${mgr.label} at ${mgr.definitionPath} (gateway on port ${port})` });
  } catch (err) {
    return withServiceState(mgr, failure("install", err));
  }
}

/** `gateway uninstall`: stop, unregister and remove the definition. */
export async function uninstallService(mgr: ServiceManager): Promise<LifecycleResult> {
  try {
    if ((await mgr.readDefinition()) === null) {
      return { ok: true, action: "uninstall", result: "not-installed", message: `${mgr.label} is not installed (no ${mgr.definitionPath}); nothing to do` };
    }
    await mgr.deactivate();
    await mgr.removeDefinition();
    const warnings: string[] = [];
    await mgr.reloadDefinition().catch((err: unknown) => warnings.push((err as Error).message));
    return { ok: true, action: "uninstall", result: "uninstalled", message: `removed ${mgr.definitionPath}`, ...(warnings.length ? { warnings } : {}) };
  } catch (err) {
    return failure("uninstall", err);
  }
}

const PAST: Record<"start" | "stop" | "restart", string> = { start: "started", stop: "stopped", restart: "restarted" };

/** `gateway start|stop|restart` through the supervisor. */
export async function controlService(mgr: ServiceManager, action: "start" | "stop" | "restart"): Promise<LifecycleResult> {
  try {
    await mgr[action]();
    return withServiceState(mgr, { ok: true, action, result: PAST[action], message: `${PAST[action]} ${mgr.label}` });
  } catch (err) {
    return withServiceState(mgr, failure(action, err));
  }
}
