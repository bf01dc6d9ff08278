/**
 * The logging surface the canvas host needs. A pino `Logger` satisfies it; inside the worker
 * thread an implementation forwards records to the parent over the ring link (see
 * `canvas-link-worker.ts`).
 */

/** Log levels the canvas host emits. */
export type CanvasLogLevel = "debug" | "info" | "warn" | "error";

/** Structured logger: plain-data fields first, message second (pino argument order). */
export interface CanvasLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

const noop = (): void => {};

/** A logger that drops everything (the default when none is given). */
export const silentLogger: CanvasLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Plain, structured-clone-safe description of a thrown value, for log fields. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const out: Record<string, unknown> = { name: err.name, message: err.message };
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string") out.code = code;
    return out;
  }
  return { message: String(err) };
}
