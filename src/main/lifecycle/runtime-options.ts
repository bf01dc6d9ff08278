/**
 * Maps the loaded config + CLI flags + environment to the running gateway's options.
 * Precedence for the port: `--port` > CLAWDBOT_GATEWAY_PORT > gateway.port > 18789.
 */
import { resolveClusterOptions } from "../cluster/cluster-options.js";
import type { CanvasHostOptions } from "../canvas/canvas-host.js";
import os from "node:os";
import { join, resolve } from "node:path";
import type { ResolvedConfig } from "../../shared/config/defaults.js";
import { resolveBindHost, resolveGatewayPorts } from "../../shared/config/ports.js";
import { expandHome, type Env } from "../../shared/config/paths.js";
import { resolveAuthConfig, type AuthConfigInput } from "../auth/shared-auth.js";
import type { ResolvedAuth } from "../auth/shared-auth.js";
import type { GatewayOptions } from "../options.js";
import { readGeneratedToken } from "./generated-token.js";
import { gatewaySecretProblem } from "../../shared/config/secret-strength.js";
import { GatewayError } from "../../shared/errors.js";
import { resolveHooksConfig } from "../hooks/hooks-config.js";
import { readAgentRuntimeConfig } from "../../workers/agent/agent-config.js";

export interface GatewayRunFlags {
  port?: string;
  bind?: string;
  token?: string;
  password?: string;
  auth?: string;
  verbose?: boolean;
  allowUnconfigured?: boolean;
  force?: boolean;
}

export interface ResolvedRuntime {
  options: GatewayOptions;
  canvas: CanvasHostOptions;
  sources: { port: string; bind: string };
}

/** True when nothing (flags, config, env) sets a shared secret or an explicit mode. */
export function authUnconfigured(config: ResolvedConfig, flags: GatewayRunFlags, env: Env): boolean {
  const a = config.gateway.auth ?? {};
  return !flags.token && !flags.password && !flags.auth && !a.mode && !a.token && !a.password && !env.CLAWDBOT_GATEWAY_TOKEN && !env.CLAWDBOT_GATEWAY_PASSWORD;
}

/**
 * Refuses placeholder and too-short shared secrets (GW_ERR_AUTH_CONFIG → exit 78 at start,
 * "keeping the last good config" on reload), naming where the secret came from.
 */
function assertUsableSecret(auth: ResolvedAuth, cli: AuthConfigInput, config: ResolvedConfig, env: Env): void {
  const key = auth.mode === "token" ? "token" : auth.mode === "password" ? "password" : undefined;
  const value = key === "token" ? auth.token : key === "password" ? auth.password : undefined;
  if (key === undefined || value === undefined) return;
  const problem = gatewaySecretProblem(value);
  if (problem === undefined) return;
  const source =
    cli[key] !== undefined
      ? `--${key}`
      : config.gateway.auth?.[key] !== undefined
        ? `gateway.auth.${key}`
        : key === "token"
          ? "CLAWDBOT_GATEWAY_TOKEN"
          : "CLAWDBOT_GATEWAY_PASSWORD";
  throw new GatewayError(
    "GW_ERR_AUTH_CONFIG",
    `${source} ${problem}: set a real ${key} (e.g. the output of \`openssl rand -hex 32\`)`,
    { reason: "weak_secret" },
  );
}

export async function resolveRuntime(
  config: ResolvedConfig,
  flags: GatewayRunFlags,
  env: Env,
  paths: { configPath: string; stateDir: string },
): Promise<ResolvedRuntime> {
  const ports = resolveGatewayPorts({ flag: flags.port, env, config });
  const bind = resolveBindHost({ flag: flags.bind, config });
  const cli: AuthConfigInput = {};
  if (flags.auth) cli.mode = flags.auth;
  if (flags.token) cli.token = flags.token;
  if (flags.password) cli.password = flags.password;
  if (authUnconfigured(config, flags, env)) {
    const generated = await readGeneratedToken(paths.stateDir);
    if (generated) cli.token = generated;
  }
  const auth = resolveAuthConfig({ configAuth: config.gateway.auth, env, cliOverrides: cli, bind: bind.host });
  assertUsableSecret(auth, cli, config, env);
  const g = config.gateway;
  const canvasEnabled = config.canvasHost.enabled && env.CLAWDBOT_SKIP_CANVAS_HOST !== "1";
  const options: GatewayOptions = {
    host: bind.host,
    port: ports.gateway.port,
    auth,
    stateDir: paths.stateDir,
    configPath: paths.configPath,
    policy: { ...g.policy },
    handshakeTimeoutMs: g.preAuth.handshakeTimeoutMs,
    preAuthMaxPerIp: g.preAuth.maxPerIp,
    preAuthMaxTotal: g.preAuth.maxTotal,
    presenceMaxEntries: g.presence.maxEntries,
    controlUi: { ...g.controlUi },
    trustedProxies: [...g.trustedProxies],
    nodes: { allowCommands: [...(g.nodes?.allowCommands ?? [])], denyCommands: [...(g.nodes?.denyCommands ?? [])] },
    canvasHostPort: canvasEnabled ? ports.canvasHost.port : null,
    version: env.CLAWDBOT_VERSION ?? env.npm_package_version ?? "2026.1.24",
    commit: env.GIT_COMMIT,
    healthRefreshMs: 60_000,
    presenceBroadcastWindowMs: 100,
    tls: g.tls?.enabled
      ? {
          enabled: true,
          autoGenerate: g.tls.autoGenerate ?? true,
          certPath: g.tls.certPath === undefined ? undefined : resolve(expandHome(g.tls.certPath)),
          keyPath: g.tls.keyPath === undefined ? undefined : resolve(expandHome(g.tls.keyPath)),
          caPath: g.tls.caPath === undefined ? undefined : resolve(expandHome(g.tls.caPath)),
        }
      : undefined,
    // Resolved like the logger's RollingFileDestination does, so logs.tail reads the file written.
    logFile: config.logging.file ? resolve(config.logging.file) : undefined,
    agentConfig: { agents: config.agents, models: config.models, tools: config.tools, session: config.session, ui: config.ui },
    httpEndpoints: {
      chatCompletions: g.http?.endpoints?.chatCompletions?.enabled === true,
      responses: g.http?.endpoints?.responses?.enabled === true,
      responsesMaxBodyBytes: g.http?.endpoints?.responses?.maxBodyBytes,
    },
    metrics: { enabled: g.metrics?.enabled ?? true, public: g.metrics?.public ?? false },
    hooks: resolveHooksConfig(config.hooks),
    agentRuntime: readAgentRuntimeConfig(config),
    cluster: resolveClusterOptions(g.cluster, ports.gateway.port),
  };
  return {
    options,
    canvas: {
      enabled: canvasEnabled,
      root: expandHome(config.canvasHost.root ?? join(os.homedir(), "clawd", "canvas")),
      port: ports.canvasHost.port,
      liveReload: config.canvasHost.liveReload,
    },
    sources: { port: ports.gateway.source, bind: bind.source },
  };
}
