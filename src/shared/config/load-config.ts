/**
 * Loading the config file (§8.1):
 *
 *   read → JSON5 parse → $include → ${VAR} substitution → validate → defaults
 *
 * `loadConfig` never throws for problems with the file's content: it returns a
 * snapshot whose `issues` say what is wrong (each naming its path), so callers decide
 * whether that is fatal (gateway start, exit 78) or not (hot reload keeps the last good
 * config). `assertValidConfig` turns a bad snapshot into a `GatewayError`.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";

import { GatewayError } from "../errors.js";
import { applyConfigDefaults } from "./defaults.js";
import type { ResolvedConfig } from "./defaults.js";
import { substituteEnv } from "./env-substitution.js";
import { resolveIncludes } from "./include.js";
import { parseJson5 } from "./parse.js";
import { resolveConfigPath } from "./paths.js";
import type { Env } from "./paths.js";
import type { ClawdbotConfig } from "./schema/index.js";
import { formatIssues, validateConfigObject } from "./validate.js";
import type { ConfigIssue } from "./validate.js";

/** A non-fatal remark about the file (e.g. an ignored legacy key). */
export interface ConfigWarning {
  path: string;
  message: string;
}

/** Everything known about the config file after one load. Shape follows `config.get`. */
export interface ConfigSnapshot {
  /** Absolute path of the file. */
  path: string;
  /** False when the file does not exist (then `config` is the defaults of `{}`). */
  exists: boolean;
  /** Raw file text, null when missing or unreadable. */
  raw: string | null;
  /** The parsed JSON5 before includes/substitution (null when missing or unparsable). */
  parsed: unknown;
  /** True when `issues` is empty. */
  valid: boolean;
  /** Validated config with defaults; the defaults of `{}` when invalid. */
  config: ResolvedConfig;
  /** sha256 hex of `raw` (of `""` when the file is missing), for optimistic concurrency. */
  hash: string;
  /** Why the file is invalid, each naming a dotted path. */
  issues: ConfigIssue[];
  warnings: ConfigWarning[];
  /** Absolute paths of the files pulled in with `$include`. */
  includes: string[];
}

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** Config file. Default: `resolveConfigPath(env, homedir)`. */
  path?: string;
  /** Environment for `${VAR}` substitution and path resolution. Default `process.env`. */
  env?: Env;
  /** Home directory for `~` expansion. Default `os.homedir()`. */
  homedir?: string;
}

/** Result of running the post-parse pipeline on an object. */
export interface ResolvedObject {
  /** Validated config as written (after includes and substitution), when valid. */
  config: ClawdbotConfig | undefined;
  issues: ConfigIssue[];
  warnings: ConfigWarning[];
  includes: string[];
}

/** sha256 hex of the raw file text (`""` when the file is missing). */
export function hashConfigText(raw: string | null): string {
  return createHash("sha256")
    .update(raw ?? "", "utf8")
    .digest("hex");
}

function issueFromError(err: unknown): ConfigIssue {
  if (err instanceof GatewayError) {
    const d = err.details as { path?: unknown } | undefined;
    return { path: typeof d?.path === "string" ? d.path : "", message: err.message, code: err.code };
  }
  return { path: "", message: err instanceof Error ? err.message : String(err), code: "GW_ERR_CONFIG_INVALID" };
}

function collectWarnings(config: ClawdbotConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (config.gateway?.token !== undefined) {
    warnings.push({
      path: "gateway.token",
      message: "gateway.token is ignored; the gateway token lives at gateway.auth.token",
    });
  }
  return warnings;
}

/**
 * Runs includes → substitution → validation on an already-parsed value that came
 * from `file` (includes resolve relative to it). Never throws for content problems.
 */
export async function resolveConfigObject(parsed: unknown, file: string, env: Env = process.env): Promise<ResolvedObject> {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      config: undefined,
      issues: [{ path: "", message: "the config file must contain a JSON5 object", code: "GW_ERR_CONFIG_INVALID" }],
      warnings: [],
      includes: [],
    };
  }
  let merged: unknown;
  let includes: string[] = [];
  try {
    const r = await resolveIncludes(parsed, file);
    merged = r.value;
    includes = r.files;
  } catch (err) {
    return { config: undefined, issues: [issueFromError(err)], warnings: [], includes };
  }
  const substituted = substituteEnv(merged, env);
  // Schema errors on strings that still hold an unresolved `${VAR}` would only repeat
  // the real problem, so validation waits for the variables.
  if (substituted.issues.length > 0) return { config: undefined, issues: substituted.issues, warnings: [], includes };
  const result = await validateConfigObject(substituted.value);
  if (!result.ok) return { config: undefined, issues: result.issues, warnings: [], includes };
  return { config: result.config, issues: [], warnings: collectWarnings(result.config), includes };
}

/** Loads and validates the config file. See the module comment for the pipeline. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ConfigSnapshot> {
  const env = opts.env ?? process.env;
  const file = opts.path ?? resolveConfigPath(env, opts.homedir ?? os.homedir());
  const base = { path: file, includes: [] as string[], warnings: [] as ConfigWarning[] };
  let raw: string;
  try {
    raw = await fs.readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return { ...base, exists: false, raw: null, parsed: null, valid: true, config: applyConfigDefaults({}), hash: hashConfigText(null), issues: [] };
    }
    const issue: ConfigIssue = { path: "", message: `cannot read config file ${file} (${code ?? "EIO"})`, code: "GW_ERR_CONFIG_INVALID" };
    return { ...base, exists: true, raw: null, parsed: null, valid: false, config: applyConfigDefaults({}), hash: hashConfigText(null), issues: [issue] };
  }
  const hash = hashConfigText(raw);
  let parsed: unknown;
  try {
    parsed = parseJson5(raw, file);
  } catch (err) {
    return { ...base, exists: true, raw, parsed: null, valid: false, config: applyConfigDefaults({}), hash, issues: [issueFromError(err)] };
  }
  const r = await resolveConfigObject(parsed, file, env);
  const valid = r.config !== undefined && r.issues.length === 0;
  return {
    path: file,
    exists: true,
    raw,
    parsed,
    valid,
    config: applyConfigDefaults(valid && r.config !== undefined ? r.config : {}),
    hash,
    issues: r.issues,
    warnings: r.warnings,
    includes: r.includes,
  };
}

/**
 * Returns the config of a valid snapshot; otherwise throws a `GatewayError` whose code
 * is the first issue's stage and whose message lists every problem, e.g.
 * `Invalid config at ~/.clawdbot/clawdbot.json:\n  gateway.port: expected … Run "clawdbot doctor"`.
 */
export function assertValidConfig(snapshot: ConfigSnapshot): ResolvedConfig {
  if (snapshot.valid) return snapshot.config;
  const first = snapshot.issues[0];
  const lines = formatIssues(snapshot.issues)
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
  throw new GatewayError(
    first?.code ?? "GW_ERR_CONFIG_INVALID",
    `Invalid config at ${snapshot.path}:\n${lines}\nFix the file, then retry (or run "clawdbot doctor").`,
    { path: snapshot.path, issues: snapshot.issues.map((i) => ({ path: i.path, message: i.message, code: i.code })) },
  );
}
