/**
 * Names of the rolling log files (§8.6): `/tmp/clawdbot/clawdbot-YYYY-MM-DD.log`
 * (local date). Size rotations of a file are `<file>.1` (newest) … `<file>.N`.
 */
import os from "node:os";
import path from "node:path";

/** Default directory of the daily rolling logs. */
export const DEFAULT_LOG_DIR = process.platform === "win32" ? path.join(os.tmpdir(), "clawdbot") : "/tmp/clawdbot";

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

/** The daily rolling log path for `ms` (default now) in `dir` (default `/tmp/clawdbot`). */
export function rollingLogPath(ms: number = Date.now(), dir: string = DEFAULT_LOG_DIR): string {
  return path.join(dir, `clawdbot-${localDateStamp(ms)}.log`);
}

/** Epoch ms of the next local midnight after `ms`. */
export function nextLocalMidnight(ms: number): number {
  const d = new Date(ms);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}
