/**
 * Writing the config file (§8.1): validate → stamp `meta` → rotate backups → atomic write.
 *
 *   clawdbot.json.bak.3 → .bak.4, … , .bak → .bak.1, copy clawdbot.json → .bak
 *   tmp (0600, fsync) → rename over clawdbot.json        (dir created 0700)
 *
 * The current file is *copied* to `.bak`, never renamed away, so there is no moment
 * without a config file (the hot-reload watcher would see it missing). Writes to the
 * same path are serialised in-process.
 */
import fs from "node:fs/promises";

import { GatewayError } from "../errors.js";
import { writeFileAtomic } from "../store/atomic-json.js";
import { hashConfigText, resolveConfigObject } from "./load-config.js";
import type { Env } from "./paths.js";
import type { ClawdbotConfig } from "./schema/index.js";
import { formatIssues } from "./validate.js";

/** Backups kept: `.bak` plus `.bak.1` … `.bak.4`. */
export const CONFIG_BACKUPS = 5;

/** Options of `writeConfigFile`. */
export interface WriteConfigOptions {
  /** Version stamped as `meta.lastTouchedVersion` (required: the caller knows its build). */
  version: string;
  /** Clock for `meta.lastTouchedAt`. Default `() => new Date()`. */
  now?: () => Date;
  /** Environment used to validate `${VAR}` references (the file keeps them verbatim). Default `process.env`. */
  env?: Env;
  /** Validate before writing. Default true. */
  validate?: boolean;
}

/** What was written. */
export interface WriteConfigResult {
  path: string;
  /** Exact text written. */
  raw: string;
  /** sha256 hex of `raw` (the new `config.get` hash). */
  hash: string;
  /** The object written, with `meta` stamped. */
  config: Record<string, unknown>;
}

const locks = new Map<string, Promise<unknown>>();

async function withPathLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(file) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const settled = run.catch(() => undefined);
  locks.set(file, settled);
  try {
    return await run;
  } finally {
    if (locks.get(file) === settled) locks.delete(file);
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Rotates `.bak` → `.bak.1` → … → `.bak.4` and copies the current file to `.bak`. */
export async function rotateConfigBackups(file: string): Promise<void> {
  try {
    await fs.access(file);
  } catch {
    return;
  }
  for (let i = CONFIG_BACKUPS - 2; i >= 1; i--) await renameIfExists(`${file}.bak.${i}`, `${file}.bak.${i + 1}`);
  await renameIfExists(`${file}.bak`, `${file}.bak.1`);
  await fs.copyFile(file, `${file}.bak`);
  await fs.chmod(`${file}.bak`, 0o600);
}

/**
 * Validates (with `${VAR}` and `$include` resolved on a copy), stamps
 * `meta.lastTouchedVersion` / `meta.lastTouchedAt`, keeps backups and writes the file
 * atomically as 2-space JSON. Throws `GW_ERR_CONFIG_INVALID` (details `{issues}`) when
 * invalid, `GW_ERR_STORE_WRITE_FAILED` on I/O failure.
 */
export async function writeConfigFile(
  file: string,
  config: ClawdbotConfig | Record<string, unknown>,
  opts: WriteConfigOptions,
): Promise<WriteConfigResult> {
  const now = (opts.now ?? (() => new Date()))();
  const source = config as Record<string, unknown>;
  const meta = typeof source.meta === "object" && source.meta !== null ? (source.meta as Record<string, unknown>) : {};
  const stamped: Record<string, unknown> = {
    ...source,
    meta: { ...meta, lastTouchedVersion: opts.version, lastTouchedAt: now.toISOString() },
  };
  if (opts.validate !== false) {
    const r = await resolveConfigObject(stamped, file, opts.env ?? process.env);
    if (r.issues.length > 0) {
      throw new GatewayError("GW_ERR_CONFIG_INVALID", `invalid config; not written:\n${formatIssues(r.issues)}`, {
        path: file,
        issues: r.issues.map((i) => ({ path: i.path, message: i.message, code: i.code })),
      });
    }
  }
  const raw = `${JSON.stringify(stamped, null, 2)}\n`;
  await withPathLock(file, async () => {
    try {
      await rotateConfigBackups(file);
    } catch (err) {
      throw new GatewayError("GW_ERR_STORE_WRITE_FAILED", `could not back up ${file}: ${(err as Error).message}`, { path: file }, { cause: err });
    }
    await writeFileAtomic(file, raw, { mode: 0o600, dirMode: 0o700 });
  });
  return { path: file, raw, hash: hashConfigText(raw), config: stamped };
}
