/**
 * `gateway status`: the supervisor's view (installed / loaded / running, pid, last exit)
 * next to RPC reachability (WS connect + `status`), the config paths, the probe target,
 * and — when the service looks running but its port is closed — the last error line.
 * The returned object is the stable `--json` shape of §9.3 (documented in docs/service.md).
 */
import os from "node:os";

import { clusterSections, type ClusterSections } from "../commands/cluster-summary.js";
import { callGateway } from "../gateway-client.js";
import { probeHostFor, probeTcpPort, type PortState } from "../../shared/net/port-probe.js";
import { resolveRpcTarget } from "../rpc-target.js";
import type { ResolvedConfig } from "../../shared/config/defaults.js";
import { loadConfig, type ConfigSnapshot } from "../../shared/config/load-config.js";
import { resolveConfigPath, resolveStateDir, type Env } from "../../shared/config/paths.js";
import { resolveBindHost, resolveGatewayPort } from "../../shared/config/ports.js";
import { resolveLogTailFile } from "../../shared/log/log-tail.js";
import { findPortHolders } from "../../main/lifecycle/port-holders.js";
import { findLastGatewayError } from "./last-error.js";
import { filterSafeEnvironment } from "./service-env.js";
import type { ServiceManager, ServiceRuntime } from "./service-manager.js";
import { serviceLogPaths } from "./service-paths.js";
import { portFromProgramArguments } from "./service-spec.js";
import type { ParsedServiceCommand } from "./systemd-unit.js";

/** Options of `gatherGatewayStatus`. */
export interface StatusOptions {
  env: Env;
  /** Default `os.homedir()`. */
  homedir?: string;
  /** Run the RPC probe (`--no-probe` turns it off). Default true. */
  probe?: boolean;
  /** Scan for other gateway services (`--deep`). Default false. */
  deep?: boolean;
  url?: string;
  token?: string;
  password?: string;
  /** RPC timeout in ms, as text (`--timeout`). Default "10000". */
  timeout?: string;
}

/** One config file's state. */
export interface ConfigSummary {
  path: string;
  exists: boolean;
  valid: boolean;
  issues?: { path: string; message: string }[];
}

/** The `gateway status --json` object. */
export interface GatewayStatusReport {
  service: {
    label: string;
    manager: "systemd" | "launchd";
    installed: boolean;
    loaded: boolean;
    loadedText: string;
    notLoadedText: string;
    command: (ParsedServiceCommand & { sourcePath: string }) | null;
    runtime: ServiceRuntime;
  };
  config: { cli: ConfigSummary; daemon?: ConfigSummary; mismatch?: boolean };
  gateway: { bindMode: string; bindHost: string; customBindHost?: string; port: number; portSource: "service args" | "env/config"; probeUrl: string; probeNote?: string };
  port: { port: number; status: PortState; listeners: string[]; hints: string[] };
  lastError?: string;
  /** `cluster`: the health snapshot's cluster sections when the gateway is in a cluster. */
  rpc?: { ok: boolean; error?: string; url: string; cluster?: ClusterSections };
  legacyServices: { label: string; detail: string }[];
  extraServices: { label: string; detail: string; scope: "user" | "system"; clawdbot: boolean }[];
}

function summarize(snap: ConfigSnapshot): ConfigSummary {
  const out: ConfigSummary = { path: snap.path, exists: snap.exists, valid: snap.valid };
  if (snap.issues.length > 0) out.issues = snap.issues.map((i) => ({ path: i.path, message: i.message }));
  return out;
}

function resolveGatewayTarget(
  config: ResolvedConfig,
  command: ParsedServiceCommand | null,
  env: Env,
  url: string | undefined,
): GatewayStatusReport["gateway"] {
  const notes: string[] = [];
  let bindMode: string = config.gateway.bind ?? "loopback";
  let bindHost = "127.0.0.1";
  try {
    const b = resolveBindHost({ config });
    bindMode = b.mode;
    bindHost = b.host;
  } catch (err) {
    notes.push((err as Error).message);
  }
  let port: number;
  let portSource: "service args" | "env/config";
  const fromArgs = command ? portFromProgramArguments(command.programArguments) : undefined;
  if (fromArgs !== undefined) {
    port = fromArgs;
    portSource = "service args";
  } else {
    portSource = "env/config";
    try {
      port = resolveGatewayPort({ env: { ...env, ...(command?.environment ?? {}) }, config }).port;
    } catch (err) {
      notes.push((err as Error).message);
      port = 18789;
    }
  }
  const probeUrl = url ?? `ws://${probeHostFor(bindHost)}:${port}`;
  if (bindHost === "0.0.0.0") notes.push("bind=lan listens on all interfaces; probing through loopback");
  const out: GatewayStatusReport["gateway"] = { bindMode, bindHost, port, portSource, probeUrl };
  if (bindMode === "custom" && config.gateway.customBindHost) out.customBindHost = config.gateway.customBindHost;
  if (notes.length > 0) out.probeNote = notes.join("; ");
  return out;
}

async function probeRpc(o: StatusOptions, probeUrl: string, serviceEnv: Record<string, string>): Promise<GatewayStatusReport["rpc"]> {
  // Credentials and state of the *service* when it has its own (install --token, profile env).
  const env: Env = { ...o.env };
  for (const k of ["CLAWDBOT_CONFIG_PATH", "CLAWDBOT_STATE_DIR", "CLAWDBOT_GATEWAY_TOKEN"] as const) if (serviceEnv[k]) env[k] = serviceEnv[k];
  const target = await resolveRpcTarget({ url: probeUrl, token: o.token, password: o.password, timeout: o.timeout }, env, { urlIsLocal: o.url === undefined });
  try {
    // `health` proves the RPC path like `status` did and carries the cluster sections.
    const health = await callGateway("health", {}, { url: target.url, token: target.token, password: target.password, timeoutMs: target.timeoutMs, stateDir: target.deviceStateDir });
    const cluster = clusterSections(health);
    return cluster ? { ok: true, url: target.url, cluster } : { ok: true, url: target.url };
  } catch (err) {
    return { ok: false, error: (err as Error).message, url: target.url };
  }
}

/** Gathers the report. Throws only when gathering itself fails (e.g. an invalid --timeout). */
export async function gatherGatewayStatus(mgr: ServiceManager, o: StatusOptions): Promise<GatewayStatusReport> {
  const homedir = o.homedir ?? os.homedir();
  const text = await mgr.readDefinition();
  let command: ParsedServiceCommand | null = null;
  let parseError: string | undefined;
  if (text !== null) {
    try {
      command = mgr.parse(text);
    } catch (err) {
      parseError = `cannot read ${mgr.definitionPath}: ${(err as Error).message}`;
    }
  }
  const inspection = await mgr.inspect();
  const runtime: ServiceRuntime = parseError ? { ...inspection.runtime, detail: parseError } : inspection.runtime;
  const serviceEnv = command ? await mgr.loadEnvironment(command) : {};

  const cliSnap = await loadConfig({ path: resolveConfigPath(o.env, homedir), env: o.env, homedir });
  const daemonPath = serviceEnv.CLAWDBOT_CONFIG_PATH;
  const daemonSnap = daemonPath !== undefined && daemonPath !== cliSnap.path ? await loadConfig({ path: daemonPath, env: o.env, homedir }) : undefined;
  const config = (daemonSnap ?? cliSnap).config;
  const gateway = resolveGatewayTarget(config, command, o.env, o.url);

  const probeHost = probeHostFor(gateway.bindHost);
  const portStatus = await probeTcpPort(probeHost, gateway.port);
  const listeners = portStatus === "listening" ? (await findPortHolders(gateway.port).catch(() => [])).map((h) => `pid ${h.pid} (${h.command || "unknown"})`) : [];
  const rpc = o.probe === false ? undefined : await probeRpc(o, gateway.probeUrl, serviceEnv);

  const hints: string[] = [];
  let lastError: string | undefined;
  if (runtime.status === "running" && portStatus !== "listening") {
    const stateDir = serviceEnv.CLAWDBOT_STATE_DIR ?? resolveStateDir(o.env, homedir);
    const found = await findLastGatewayError([serviceLogPaths(stateDir).stderr, await resolveLogTailFile({ file: config.logging.file })]);
    lastError = found?.line;
    hints.push(`the service is running but nothing listens on port ${gateway.port}: it may be crash-looping or still starting`);
    hints.push(mgr.kind === "systemd" ? `see \`journalctl --user -u ${mgr.label} -n 50\`` : `see ${serviceLogPaths(stateDir).stderr}`);
  } else if (portStatus === "listening" && rpc !== undefined && !rpc.ok) {
    hints.push(`port ${gateway.port} is in use but the gateway RPC probe failed (${rpc.error ?? "unknown error"}); check the token/password, or what holds the port`);
  } else if (portStatus === "free" && text === null) {
    hints.push("no service installed and nothing listens: `clawdbot gateway install` (supervised) or `clawdbot gateway` (foreground)");
  } else if (portStatus === "free" && runtime.status === "stopped") {
    hints.push("the service is installed but not running: `clawdbot gateway start`");
  } else if (runtime.status === "unknown" && text !== null) {
    hints.push(`could not ask the supervisor about ${mgr.label}; the RPC probe above tells whether a gateway answers`);
  }

  const report: GatewayStatusReport = {
    service: {
      label: mgr.label,
      manager: mgr.kind,
      installed: text !== null,
      loaded: inspection.loaded,
      loadedText: mgr.loadedText,
      notLoadedText: mgr.notLoadedText,
      command: command ? { ...command, environment: filterSafeEnvironment(command.environment), sourcePath: mgr.definitionPath } : null,
      runtime,
    },
    config: daemonSnap ? { cli: summarize(cliSnap), daemon: summarize(daemonSnap), mismatch: true } : { cli: summarize(cliSnap) },
    gateway,
    port: { port: gateway.port, status: portStatus, listeners, hints },
    ...(lastError !== undefined ? { lastError } : {}),
    ...(rpc !== undefined ? { rpc } : {}),
    legacyServices: [],
    extraServices: o.deep === true ? (await mgr.scanExtraServices()).map((s) => ({ label: s.label, detail: s.detail, scope: s.scope, clawdbot: s.clawdbot })) : [],
  };
  return report;
}
