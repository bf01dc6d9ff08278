/**
 * What a gateway service runs, independent of the supervisor: `install` renders it into
 * a systemd unit or a launchd plist, `doctor` renders it again to audit an installed one.
 */
import os from "node:os";

import { launchdLabel, resolveConfigPath, resolveStateDir, systemdUnitName } from "../../shared/config/paths.js";
import type { Env } from "../../shared/config/paths.js";
import { buildServiceEnvironment, profileOf, type ServiceManagerKind } from "./service-env.js";
import { resolveCliEntry, serviceLogPaths } from "./service-paths.js";
import { serviceSecretsPath } from "./service-secrets.js";

/** A supervisor-neutral service definition. */
export interface ServiceSpec {
  manager: ServiceManagerKind;
  /** Unit name (`clawdbot-gateway[-<profile>].service`) or launchd label (`com.clawdbot.gateway|<profile>`). */
  label: string;
  /** `Clawdbot Gateway (profile: <p>, v<version>)`, or `Clawdbot Gateway` without a profile. */
  description: string;
  /** `<node> --inspect-publish-uid=stderr <cli entry> gateway --port <port>` (see `SERVICE_NODE_FLAGS`). */
  programArguments: string[];
  workingDirectory: string;
  environment: Record<string, string>;
  /** Supervisor stdout / stderr files (launchd writes them; systemd uses the journal). */
  stdoutPath: string;
  stderrPath: string;
  /**
   * systemd: the 0600 `EnvironmentFile=` that receives the secret variables of
   * `environment` (`<stateDir>/gateway/<unit>.env`; see service-secrets.ts). Unused by launchd.
   */
  secretsPath: string;
}

/** Inputs of `buildServiceSpec`. */
export interface ServiceSpecInput {
  manager: ServiceManagerKind;
  /** Environment the CLI runs with (profile, state dir, config path). */
  env: Env;
  /** Home directory. Default `os.homedir()`. */
  homedir?: string;
  port: number;
  /** Token to embed (only from `install --token`). Default none. */
  token?: string;
  version: string;
  /** Node binary. Default `process.execPath`. */
  nodePath?: string;
  /** CLI entry. Default `resolveCliEntry()`. */
  cliEntry?: string;
  /** Target platform (PATH defaults). Default `process.platform`. */
  platform?: NodeJS.Platform;
}

/**
 * Node flags of a service. `--inspect-publish-uid=stderr`: should the V8 inspector ever be
 * opened by a SIGUSR1 that lands in Node's own bootstrap (before the entry's handler exists;
 * Node 20 cannot turn that off), its random WebSocket id is printed only to the service's
 * stderr (journal / 0700 state dir), not served at http://127.0.0.1:9229/json/list, so
 * another local user cannot find the socket to connect to.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ["--inspect-publish-uid=stderr"];

/** The service label for a manager and profile. */
export function serviceLabel(manager: ServiceManagerKind, profile: string | undefined): string {
  return manager === "systemd" ? systemdUnitName(profile) : launchdLabel(profile);
}

/** Description line / plist Comment. */
export function serviceDescription(profile: string | undefined, version: string): string {
  return profile === undefined ? "Clawdbot Gateway" : `Clawdbot Gateway (profile: ${profile}, v${version})`;
}

/** Builds the spec `install` would write now. */
export function buildServiceSpec(input: ServiceSpecInput): ServiceSpec {
  const homedir = input.homedir ?? os.homedir();
  const profile = profileOf(input.env);
  const stateDir = resolveStateDir(input.env, homedir);
  const nodePath = input.nodePath ?? process.execPath;
  const label = serviceLabel(input.manager, profile);
  const logs = serviceLogPaths(stateDir);
  return {
    manager: input.manager,
    label,
    description: serviceDescription(profile, input.version),
    programArguments: [nodePath, ...SERVICE_NODE_FLAGS, input.cliEntry ?? resolveCliEntry(), "gateway", "--port", String(input.port)],
    workingDirectory: homedir,
    environment: buildServiceEnvironment({
      manager: input.manager,
      label,
      homedir,
      profile,
      stateDir,
      configPath: resolveConfigPath(input.env, homedir),
      port: input.port,
      token: input.token,
      version: input.version,
      nodePath,
      platform: input.platform,
    }),
    stdoutPath: logs.stdout,
    stderrPath: logs.stderr,
    secretsPath: serviceSecretsPath(stateDir, label),
  };
}

/** The `--port N` (or `--port=N`) value of installed program arguments, if any. */
export function portFromProgramArguments(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const text = a === "--port" ? args[i + 1] : a.startsWith("--port=") ? a.slice("--port=".length) : undefined;
    if (text !== undefined && /^\d{1,5}$/.test(text) && Number(text) <= 65535) return Number(text);
  }
  return undefined;
}
