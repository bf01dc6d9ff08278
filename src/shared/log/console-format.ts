/**
 * Human console output for pino JSON lines, without pino-pretty.
 *
 *   pretty   12:34:56.789 INFO  [gateway] listening port=18789      (ANSI colours when enabled)
 *   compact  2026-01-24T12:34:56.789Z info gateway: listening port=18789
 *   json     the line unchanged
 *
 * Lines arrive already redacted (the logger's streamWrite hook runs first).
 */
import type { Writable } from "node:stream";

/** `logging.consoleStyle`. */
export type ConsoleStyle = "pretty" | "compact" | "json";

/** Something with a `write(string)` (a stream, a pino destination, a test sink). */
export interface LineSink {
  write(chunk: string): unknown;
}

const LEVEL_NAMES: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };
const LEVEL_COLORS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const HIDDEN_KEYS = new Set(["level", "time", "pid", "hostname", "msg", "subsystem", "_meta", "err"]);

function levelName(level: unknown): string {
  if (typeof level === "number") return LEVEL_NAMES[level] ?? String(level);
  return typeof level === "string" ? level : "info";
}

function clock(time: unknown): string {
  const d = typeof time === "number" || typeof time === "string" ? new Date(time) : new Date();
  if (Number.isNaN(d.getTime())) return String(time);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** Formats one serialised pino line (with its trailing newline) for the console. */
export function formatConsoleLine(line: string, style: ConsoleStyle, colors = false): string {
  if (style === "json") return line;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = levelName(rec.level);
  const tag = typeof rec.subsystem === "string" ? rec.subsystem : undefined;
  const msg = typeof rec.msg === "string" ? rec.msg : "";
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN_KEYS.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(" ");
  const err = rec.err as { message?: unknown; stack?: unknown } | undefined;
  const errText =
    err === undefined ? "" : style === "pretty" && typeof err.stack === "string" ? `\n${err.stack}` : ` err=${fieldText(err.message)}`;
  const body = [msg, fields].filter((s) => s !== "").join(" ");
  if (style === "compact") {
    const time = typeof rec.time === "string" ? rec.time : new Date(Number(rec.time)).toISOString();
    return `${time} ${level} ${tag === undefined ? "" : `${tag}: `}${body}${errText}\n`;
  }
  const label = level.toUpperCase().padEnd(5);
  const t = clock(rec.time);
  const tagText = tag === undefined ? "" : `[${tag}] `;
  if (!colors) return `${t} ${label} ${tagText}${body}${errText}\n`;
  return `${DIM}${t}${RESET} ${LEVEL_COLORS[level] ?? ""}${label}${RESET} ${tagText}${body}${errText}\n`;
}

/** A pino destination that formats each line for a human before writing it to `out`. */
export class ConsoleDestination {
  constructor(
    private readonly out: LineSink | Writable,
    private readonly style: ConsoleStyle,
    private readonly colors: boolean,
  ) {}

  /** Formats and forwards one line. */
  write(line: string): boolean {
    this.out.write(this.style === "json" ? line : formatConsoleLine(line, this.style, this.colors));
    return true;
  }
}
