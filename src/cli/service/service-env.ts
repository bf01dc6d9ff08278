/**
 * The environment written into service definitions (§9.3): just what the gateway needs
 * to find its state, config and port, plus the install markers. Never the caller's whole
 * environment (secrets and shell noise would end up in a world-readable unit file).
 */
import path from "node:path";

import type { Env } from "../../shared/config/paths.js";

/** Which supervisor the definition is for. */
export type ServiceManagerKind = "systemd" | "launchd";

/** Inputs of `buildServiceEnvironment`. */
export interface ServiceEnvInput {
  manager: ServiceManagerKind;
  /** Unit name (systemd) or label (launchd). */
  label: string;
  homedir: string;
  /** Named profile, when one is active (`CLAWDBOT_PROFILE`). */
  profile?: string;
  stateDir: string;
  configPath: string;
  port: number;
  /** Written as CLAWDBOT_GATEWAY_TOKEN only when given (`install --token`). */
  token?: string;
  version: string;
  /** Node binary; its directory leads PATH. */
  nodePath: string;
  /** Target platform (PATH defaults). Default `process.platform`. */
  platform?: NodeJS.Platform;
}

/** A minimal PATH: the node binary's directory, then the system directories. */
export function minimalServicePath(nodePath: string, platform: NodeJS.Platform = process.platform): string {
  const dirs = [path.dirname(nodePath)];
  if (platform === "darwin") dirs.push("/opt/homebrew/bin");
  dirs.push("/usr/local/bin", "/usr/bin", "/bin");
  return [...new Set(dirs)].join(":");
}

/** The service environment, in a stable order (so re-rendering is byte-identical). */
export function buildServiceEnvironment(input: ServiceEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    HOME: input.homedir,
    PATH: minimalServicePath(input.nodePath, input.platform),
  };
  if (input.profile !== undefined && input.profile !== "") env.CLAWDBOT_PROFILE = input.profile;
  env.CLAWDBOT_STATE_DIR = input.stateDir;
  env.CLAWDBOT_CONFIG_PATH = input.configPath;
  env.CLAWDBOT_GATEWAY_PORT = String(input.port);
  if (input.token !== undefined && input.token !== "") env.CLAWDBOT_GATEWAY_TOKEN = input.token;
  if (input.manager === "systemd") env.CLAWDBOT_SYSTEMD_UNIT = input.label;
  else env.CLAWDBOT_LAUNCHD_LABEL = input.label;
  env.CLAWDBOT_SERVICE_MARKER = "clawdbot";
  env.CLAWDBOT_SERVICE_KIND = "gateway";
  env.CLAWDBOT_SERVICE_VERSION = input.version;
  return env;
}

const SECRET_KEY_RE = /TOKEN|PASSWORD|SECRET|KEY/i;

/** The environment with secret-looking variables dropped (for `status --json`). */
export function filterSafeEnvironment(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !SECRET_KEY_RE.test(k)) out[k] = v;
  return out;
}

/** Profile from an environment, ignoring `default` (same rule as the service names). */
export function profileOf(env: Env): string | undefined {
  const p = env.CLAWDBOT_PROFILE?.trim();
  return p === undefined || p === "" || p === "default" ? undefined : p;
}
