/**
 * A log line that may repeat without bound (e.g. a file watch failing over and over while
 * a directory keeps vanishing and reappearing) is written at most `burst` times per
 * `windowMs`; what was dropped in a window is reported once, in one summary line, when the
 * window ends. So a flood costs at most `burst + 1` lines per window, and nothing is
 * silently lost: the summary says how many were suppressed.
 */

/** Writes one structured log record (pino argument order). */
export type LogWrite = (fields: Record<string, unknown>, msg: string) => void;

/** Options of `rateLimitedLog`. */
export interface RateLimitOptions {
  /** Lines written per window before suppression starts. Default 5. */
  burst?: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Message of the summary line (fields: `suppressed`, `windowMs`). */
  summary: string;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** A rate-limited writer; `close()` cancels a pending summary. */
export interface RateLimitedLog {
  write: LogWrite;
  /** Lines suppressed in the current window so far. */
  readonly suppressed: number;
  close(): void;
}

/** Wraps `write` so a flood costs at most `burst + 1` lines per window. */
export function rateLimitedLog(write: LogWrite, opts: RateLimitOptions): RateLimitedLog {
  const burst = opts.burst ?? 5;
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let windowStart = -Infinity;
  let written = 0;
  let suppressed = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    timer = undefined;
    if (suppressed > 0) write({ suppressed, windowMs }, opts.summary);
    suppressed = 0;
  };

  return {
    write(fields, msg) {
      const t = now();
      if (t - windowStart >= windowMs) {
        if (timer) clearTimeout(timer);
        flush();
        windowStart = t;
        written = 0;
      }
      if (written < burst) {
        written++;
        write(fields, msg);
        return;
      }
      suppressed++;
      if (!timer) {
        timer = setTimeout(flush, Math.max(0, windowStart + windowMs - t));
        timer.unref();
      }
    },
    get suppressed() {
      return suppressed;
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
