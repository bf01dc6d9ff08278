/**
 * Names of the rolling log files (§8.6): `/tmp/clawdbot/clawdbot-YYYY-MM-DD.log`
 * (local date). Size rotations of a file are `<file>.1` (newest) … `<file>.N`.
 *
 * `/tmp` is shared: the directory is used only while it is ours (private-dir.ts). When
 * another user owns `/tmp/clawdbot` (a second user of the machine, or one who created it
 * to plant symlinks), the logs go to `/tmp/clawdbot-<uid>/` instead; `defaultLogDir()`
 * decides once per process so the logger and `logs.tail` agree.
 */
import os from "node:os";
import path from "node:path";

import { isPrivateDirOrAbsent } from "../private-dir.js";

/** Preferred directory of the daily rolling logs (the runbook's path). */
export const DEFAULT_LOG_DIR = process.platform === "win32" ? path.join(os.tmpdir(), "clawdbot") : "/tmp/clawdbot";

/**
 * `preferred` when it is absent or safely ours, else `<preferred>-<uid>` (per user).
 * Pure apart from one lstat; see `defaultLogDir` for the cached process-wide choice.
 */
export function resolveLogDir(preferred: string = DEFAULT_LOG_DIR): string {
  if (typeof process.getuid !== "function" || isPrivateDirOrAbsent(preferred)) return preferred;
  return `${preferred}-${process.getuid()}`;
}

let chosenDir: string | undefined;

/** The directory of the daily rolling logs for this process (decided on first call). */
export function defaultLogDir(): string {
  chosenDir ??= resolveLogDir();
  return chosenDir;
}

/** A daily rolling log file name (not a size rotation). */
export const ROLLING_LOG_RE = /^clawdbot-\d{4}-\d{2}-\d{2}\.log$/;

/** A daily rolling log or one of its size rotations. */
export const ROLLING_LOG_FAMILY_RE = /^clawdbot-\d{4}-\d{2}-\d{2}\.log(?:\.\d+)?$/;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD` of `ms` in local time. */
export function localDateStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The daily rolling log path for `ms` (default now) in `dir` (default `defaultLogDir()`). */
export function rollingLogPath(ms: number = Date.now(), dir: string = defaultLogDir()): string {
  return path.join(dir, `clawdbot-${localDateStamp(ms)}.log`);
}

/** Epoch ms of the next local midnight after `ms`. */
export function nextLocalMidnight(ms: number): number {
  const d = new Date(ms);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}
