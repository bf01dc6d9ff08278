/**
 * Where state and config live, and how `--profile` / `--dev` isolate them (§8.1, §8.7).
 *
 * Every function takes the environment and the home directory as parameters so that
 * tests (and the CLI, which mutates its own env before anything else runs) can inject
 * them; nothing here reads the filesystem.
 */
import os from "node:os";
import path from "node:path";

import { GatewayError } from "../errors.js";

/** Environment variables read or written here. */
export type Env = Record<string, string | undefined>;

/** Base port of the `dev` profile (runbook "Dev profile"). */
export const DEV_PROFILE_PORT = 19001;

/** Name of the config file inside the state dir. */
export const CONFIG_FILE_NAME = "clawdbot.json";

const PROFILE_NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Returns the value of an env var, treating empty / whitespace-only as unset. */
function envValue(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/**
 * Expands a leading `~` (`~` or `~/…`) to `homedir` and resolves the result to an
 * absolute path. Other paths are resolved against the process cwd.
 */
export function expandHome(p: string, homedir: string = os.homedir()): string {
  if (p === "~") return homedir;
  if (p.startsWith("~/") || p.startsWith("~\\")) return path.join(homedir, p.slice(2));
  return path.resolve(p);
}

/** State dir: `$CLAWDBOT_STATE_DIR` else `~/.clawdbot` (both `~`-expanded). */
export function resolveStateDir(env: Env = process.env, homedir: string = os.homedir()): string {
  const fromEnv = envValue(env, "CLAWDBOT_STATE_DIR");
  return fromEnv !== undefined ? expandHome(fromEnv, homedir) : path.join(homedir, ".clawdbot");
}

/** Config file: `$CLAWDBOT_CONFIG_PATH` else `<stateDir>/clawdbot.json` (both `~`-expanded). */
export function resolveConfigPath(env: Env = process.env, homedir: string = os.homedir()): string {
  const fromEnv = envValue(env, "CLAWDBOT_CONFIG_PATH");
  return fromEnv !== undefined
    ? expandHome(fromEnv, homedir)
    : path.join(resolveStateDir(env, homedir), CONFIG_FILE_NAME);
}

/**
 * Checks a profile name (letters, digits, `_`, `-`). Throws `GW_ERR_CONFIG_INVALID`
 * with an operator-facing message otherwise; returns the name unchanged.
 */
export function validateProfileName(name: string): string {
  if (!PROFILE_NAME_RE.test(name)) {
    throw new GatewayError(
      "GW_ERR_CONFIG_INVALID",
      `invalid profile name ${JSON.stringify(name)}: use only letters, digits, "_" and "-"`,
      { profile: name },
    );
  }
  return name;
}

/**
 * Resolves the effective profile from the global CLI flags. `--dev` means profile `dev`;
 * giving both `--dev` and `--profile` is an error. Returns undefined when neither is set.
 */
export function resolveProfileFlag(flags: { profile?: string; dev?: boolean }): string | undefined {
  if (flags.dev === true && flags.profile !== undefined) {
    throw new GatewayError("GW_ERR_CONFIG_INVALID", "use either --dev or --profile <name>, not both", {
      profile: flags.profile,
    });
  }
  if (flags.dev === true) return "dev";
  return flags.profile === undefined ? undefined : validateProfileName(flags.profile);
}

/** State dir of a profile: `~/.clawdbot-<name>`, and `~/.clawdbot` for `default`. */
export function profileStateDir(profile: string, homedir: string = os.homedir()): string {
  return profile === "default" ? path.join(homedir, ".clawdbot") : path.join(homedir, `.clawdbot-${profile}`);
}

/**
 * Applies a profile's env defaults (§8.7), filling only variables that are unset (or
 * empty): `CLAWDBOT_PROFILE`, `CLAWDBOT_STATE_DIR`, `CLAWDBOT_CONFIG_PATH`
 * (`<stateDir>/clawdbot.json`, using the possibly user-provided state dir), and for
 * profile `dev` also `CLAWDBOT_GATEWAY_PORT=19001`. Mutates and returns `env`; the
 * names of the variables it set are returned in `applied`.
 */
export function applyProfileEnv(
  profile: string,
  env: Env = process.env,
  homedir: string = os.homedir(),
): { env: Env; applied: string[] } {
  validateProfileName(profile);
  const applied: string[] = [];
  const fill = (key: string, value: string): void => {
    if (envValue(env, key) === undefined) {
      env[key] = value;
      applied.push(key);
    }
  };
  fill("CLAWDBOT_PROFILE", profile);
  fill("CLAWDBOT_STATE_DIR", profileStateDir(profile, homedir));
  fill("CLAWDBOT_CONFIG_PATH", path.join(resolveStateDir(env, homedir), CONFIG_FILE_NAME));
  if (profile === "dev") fill("CLAWDBOT_GATEWAY_PORT", String(DEV_PROFILE_PORT));
  return { env, applied };
}

/** The active profile from `CLAWDBOT_PROFILE` (undefined when unset or `default`). */
export function activeProfile(env: Env = process.env): string | undefined {
  const p = envValue(env, "CLAWDBOT_PROFILE");
  return p === undefined || p === "default" ? undefined : p;
}

function namedProfile(profile: string | undefined): string | undefined {
  return profile === undefined || profile === "" || profile === "default" ? undefined : profile;
}

/** systemd unit: `clawdbot-gateway.service` or `clawdbot-gateway-<profile>.service`. */
export function systemdUnitName(profile?: string): string {
  const p = namedProfile(profile);
  return p === undefined ? "clawdbot-gateway.service" : `clawdbot-gateway-${p}.service`;
}

/** launchd label: `com.clawdbot.gateway` or `com.clawdbot.<profile>`. */
export function launchdLabel(profile?: string): string {
  const p = namedProfile(profile);
  return p === undefined ? "com.clawdbot.gateway" : `com.clawdbot.${p}`;
}

/** Windows scheduled task: `Clawdbot Gateway` or `Clawdbot Gateway (<profile>)`. */
export function windowsTaskName(profile?: string): string {
  const p = namedProfile(profile);
  return p === undefined ? "Clawdbot Gateway" : `Clawdbot Gateway (${p})`;
}
