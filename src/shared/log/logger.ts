/**
 * The gateway logger: pino, writing
 *   - JSON lines to a rolling file (rolling-file.ts), at `logging.level`;
 *   - the same records to stdout, human-formatted by pino-pretty on a TTY and JSON
 *     otherwise, at `logging.consoleLevel` (`--verbose` lowers both to debug: handshakes,
 *     req/res, events show up in stdio). pino-pretty is imported only for a human format
 *     (console-pretty.ts), so `createGatewayLogger` is async.
 * Every line passes the redactor once (pino `streamWrite` hook) before any destination.
 *
 * Line shape: pino's (`level` number, `time` ISO string, `pid`, `hostname`, `msg`, …)
 * plus `_meta.logLevelName` ("INFO", …) so clawdbot's log tooling can read the level.
 * stdout is written through an async pino destination on fd 1 by default, so a slow
 * pipe or terminal never blocks the main thread.
 */
import pino from "pino";
import type { Level, Logger, StreamEntry } from "pino";

import type { LoggingConfig } from "../config/schema/index.js";
import { FormattedDestination, loadLineFormatter } from "./console-pretty.js";
import type { ConsoleStyle, LineSink } from "./console-pretty.js";
import { LineRedactor, pinoRedactPaths, REDACTED } from "./redact.js";
import { RollingFileDestination } from "./rolling-file.js";

/** A pino level name or `silent`. */
export type LogLevel = Level | "silent";

/** Options of `createGatewayLogger`. Every field is optional. */
export interface GatewayLoggerOptions {
  /** File level. Default `"info"`; `"silent"` = no file. */
  level?: LogLevel;
  /** Fixed log file (`logging.file`). Default: daily `/tmp/clawdbot/clawdbot-YYYY-MM-DD.log`. */
  file?: string;
  /** Directory of the daily files. Default `/tmp/clawdbot`. */
  dir?: string;
  /** Size limit per file before rotation. Default 10 MiB. */
  maxFileBytes?: number;
  /** Rotated files kept per log file. Default 5. */
  maxFiles?: number;
  /** Console level. Default `"info"`; `"silent"` = no console output. */
  consoleLevel?: LogLevel;
  /** Console style. Default `"pretty"` when stdout is a TTY, `"json"` otherwise. */
  consoleStyle?: ConsoleStyle;
  /** `--verbose`: file and console at least `debug`. Default false. */
  verbose?: boolean;
  /** Console sink. Default: async pino destination on fd 1. */
  stdout?: LineSink;
  /** Whether stdout is a terminal (style and colour defaults). Default `process.stdout.isTTY`. */
  stdoutIsTTY?: boolean;
  /** ANSI colours in `pretty` style. Default: TTY and no `NO_COLOR`. */
  colors?: boolean;
  /** Live secrets to scrub. Default none (see `collectConfigSecrets`). */
  secrets?: readonly string[];
  /** `logging.redactPatterns`. Default none. */
  redactPatterns?: readonly string[];
  /** `logging.redactSensitive`. Default `"tools"` (secret-shaped patterns on). */
  redactSensitive?: "off" | "tools";
  /** Clock for the rolling file (tests). Default `Date.now`. */
  now?: () => number;
  /** Fields on every line. Default `{pid, hostname}` (pino's). */
  base?: Record<string, unknown>;
}

/** A logger with its destinations and live redaction controls. */
export interface GatewayLogger {
  logger: Logger;
  /** The file destination (undefined when the file level is `silent`). */
  fileDestination: RollingFileDestination | undefined;
  /** Path of the log file currently written ("" when none). */
  readonly file: string;
  /** Replaces the live secrets (call on config reload). */
  setSecrets(secrets: readonly string[]): void;
  /** Replaces `logging.redactPatterns`; returns the patterns that did not compile. */
  setRedactPatterns(patterns: readonly string[]): string[];
  /** Resolves when all lines so far reached the file. */
  flush(): Promise<void>;
  /** Flushes and closes the file; the logger must not be used afterwards. */
  close(): Promise<void>;
}

const LEVEL_VALUES: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};
const LEVEL_LABELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

function lower(level: LogLevel, verbose: boolean): LogLevel {
  return verbose && LEVEL_VALUES[level] > LEVEL_VALUES.debug ? "debug" : level;
}

/** Maps the `logging` config section (+ `--verbose`) to logger options. */
export function loggerOptionsFromConfig(logging: LoggingConfig | undefined, extra: GatewayLoggerOptions = {}): GatewayLoggerOptions {
  const l = logging ?? {};
  return {
    level: l.level,
    file: l.file,
    maxFileBytes: l.maxFileBytes,
    maxFiles: l.maxFiles,
    consoleLevel: l.consoleLevel,
    consoleStyle: l.consoleStyle,
    redactPatterns: l.redactPatterns,
    redactSensitive: l.redactSensitive,
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
  };
}

/** Builds the gateway logger. See the module comment. */
export async function createGatewayLogger(opts: GatewayLoggerOptions = {}): Promise<GatewayLogger> {
  const verbose = opts.verbose === true;
  const fileLevel = lower(opts.level ?? "info", verbose);
  const consoleLevel = lower(opts.consoleLevel ?? "info", verbose);
  const isTTY = opts.stdoutIsTTY ?? process.stdout.isTTY === true;
  const style = opts.consoleStyle ?? (isTTY ? "pretty" : "json");
  const colors = opts.colors ?? (isTTY && process.env.NO_COLOR === undefined);
  const redactor = new LineRedactor({
    secrets: opts.secrets,
    patterns: opts.redactPatterns,
    redactSensitive: opts.redactSensitive,
  });

  const streams: StreamEntry<Level>[] = [];
  let fileDestination: RollingFileDestination | undefined;
  if (fileLevel !== "silent") {
    fileDestination = new RollingFileDestination({
      file: opts.file,
      dir: opts.dir,
      maxFileBytes: opts.maxFileBytes,
      maxFiles: opts.maxFiles,
      now: opts.now,
    });
    streams.push({ level: fileLevel, stream: fileDestination });
  }
  let consoleSink: LineSink | undefined;
  if (consoleLevel !== "silent") {
    consoleSink = opts.stdout ?? pino.destination({ dest: 1, sync: false });
    streams.push({ level: consoleLevel, stream: style === "json" ? consoleSink : new FormattedDestination(consoleSink, await loadLineFormatter(style, colors)) });
  }
  const minLevel = [fileLevel, consoleLevel].reduce((a, b) => (LEVEL_VALUES[a] <= LEVEL_VALUES[b] ? a : b));

  const logger = pino(
    {
      level: minLevel,
      ...(opts.base === undefined ? {} : { base: opts.base }),
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: pinoRedactPaths(), censor: REDACTED },
      mixin: (_obj, level) => ({ _meta: { logLevelName: LEVEL_LABELS[level] ?? String(level) } }),
      hooks: { streamWrite: (line) => redactor.scrub(line) },
    },
    pino.multistream(streams),
  );

  const flushConsole = (): Promise<void> =>
    new Promise((resolve) => {
      const sink = consoleSink as { flush?: (cb: (err?: Error) => void) => void } | undefined;
      if (sink === undefined || typeof sink.flush !== "function" || opts.stdout !== undefined) return resolve();
      sink.flush(() => resolve());
    });

  return {
    logger,
    fileDestination,
    get file() {
      return fileDestination?.file ?? "";
    },
    setSecrets: (secrets) => redactor.setSecrets(secrets),
    setRedactPatterns: (patterns) => {
      redactor.setPatterns(patterns);
      return [...redactor.invalidPatterns];
    },
    flush: async () => {
      await fileDestination?.flush();
      await flushConsole();
    },
    close: async () => {
      await fileDestination?.close();
      await flushConsole();
    },
  };
}
