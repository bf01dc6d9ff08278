/**
 * Human console output for pino JSON lines, by pino-pretty (`prettyFactory`, synchronous
 * per line). pino-pretty is imported only when a human format is asked for (stdout is a
 * TTY, `logging.consoleStyle` says so, or `clawdbot logs` without `--json`): a gateway
 * whose stdout is a pipe or a journal never loads it.
 *
 *   pretty   [12:34:56.789] INFO: [gateway] listening {"port":18789}      (local time; ANSI colours when enabled)
 *   compact  [2026-01-24T12:34:56.789Z] INFO: gateway: listening {"port":18789}   (UTC, never coloured)
 *   json     the line unchanged (no pino-pretty)
 *
 * Lines arrive already redacted (the logger's streamWrite hook runs first).
 */

/** `logging.consoleStyle`. */
export type ConsoleStyle = "pretty" | "compact" | "json";

/** Something with a `write(string)` (a stream, a pino destination, a test sink). */
export interface LineSink {
  write(chunk: string): unknown;
}

/** Formats one serialised pino line (a non-JSON line is passed through). */
export type LineFormatter = (line: string) => string;

// pino's own fields and ours that the human formats leave out (subsystem goes into the message).
const IGNORE = "pid,hostname,subsystem,_meta";

/** Loads pino-pretty and returns the formatter of `style` (`json` → identity, nothing loaded). */
export async function loadLineFormatter(style: ConsoleStyle, colors: boolean): Promise<LineFormatter> {
  if (style === "json") return (line) => line;
  const { prettyFactory } = await import("pino-pretty");
  const format = prettyFactory(
    style === "pretty"
      ? { colorize: colors, translateTime: "SYS:HH:MM:ss.l", ignore: IGNORE, messageFormat: "{if subsystem}[{subsystem}] {end}{msg}", singleLine: true }
      : { colorize: false, translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'", ignore: IGNORE, messageFormat: "{if subsystem}{subsystem}: {end}{msg}", singleLine: true },
  );
  return (line) => {
    const out = format(line);
    return out.endsWith("\n") ? out : `${out}\n`;
  };
}

/** A pino destination that formats each line before writing it to `out`. */
export class FormattedDestination {
  constructor(
    private readonly out: LineSink,
    private readonly format: LineFormatter,
  ) {}

  /** Formats and forwards one line. */
  write(line: string): boolean {
    this.out.write(this.format(line));
    return true;
  }
}
