/**
 * `logs.tail` (§3.12): read the end of the gateway log file by byte cursor.
 *
 * - no cursor: the last `maxBytes` (`truncated` when the file is bigger);
 * - cursor > size (file rotated or truncated): `reset`, read the tail;
 * - cursor more than `maxBytes` behind: `reset` + `truncated`, read the tail;
 * - otherwise read from the cursor.
 * A partial first line is dropped when reading starts mid-file, the trailing empty
 * line is dropped, the last `limit` lines are kept; the new cursor is the file size.
 */
import fsp from "node:fs/promises";
import path from "node:path";

import { GatewayError } from "../errors.js";
import { defaultLogDir, ROLLING_LOG_RE, rollingLogPath } from "./log-paths.js";

/** Default number of lines. */
export const LOGS_TAIL_DEFAULT_LIMIT = 500;
/** Maximum number of lines. */
export const LOGS_TAIL_MAX_LIMIT = 5000;
/** Default bytes read per call. */
export const LOGS_TAIL_DEFAULT_MAX_BYTES = 250_000;
/** Maximum bytes read per call. */
export const LOGS_TAIL_MAX_BYTES = 1_000_000;

/** Parameters of `readLogTail`. */
export interface LogTailParams {
  /** File to read (see `resolveLogTailFile`). */
  file: string;
  /** Byte offset returned by the previous call. Default: none (read the tail). */
  cursor?: number;
  /** Keep at most this many lines (1..5000). Default 500. */
  limit?: number;
  /** Read at most this many bytes (1..1,000,000). Default 250,000. */
  maxBytes?: number;
}

/** The `logs.tail` result. */
export interface LogTailResult {
  file: string;
  cursor: number;
  size: number;
  lines: string[];
  truncated: boolean;
  reset: boolean;
}

function clampInt(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/**
 * The file `logs.tail` reads: `logging.file` when configured, else today's rolling file;
 * when that does not exist, the most recently modified `clawdbot-YYYY-MM-DD.log` in the
 * same directory (if any).
 */
export async function resolveLogTailFile(opts: { file?: string; dir?: string; now?: number } = {}): Promise<string> {
  if (opts.file !== undefined && opts.file !== "") return path.resolve(opts.file);
  const dir = opts.dir ?? defaultLogDir();
  const today = rollingLogPath(opts.now ?? Date.now(), dir);
  if (await fsp.stat(today).then(() => true, () => false)) return today;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return today;
  }
  let best: { file: string; mtime: number } | undefined;
  for (const name of names) {
    if (!ROLLING_LOG_RE.test(name)) continue;
    const file = path.join(dir, name);
    const st = await fsp.stat(file).catch(() => undefined);
    if (st?.isFile() === true && (best === undefined || st.mtimeMs > best.mtime)) best = { file, mtime: st.mtimeMs };
  }
  return best?.file ?? today;
}

/**
 * Reads a slice of `file` per `logs.tail` semantics. A missing file yields an empty
 * result; any other read error throws `UNAVAILABLE "log read failed: …"`.
 */
export async function readLogTail(params: LogTailParams): Promise<LogTailResult> {
  const { file } = params;
  const limit = clampInt(params.limit, LOGS_TAIL_DEFAULT_LIMIT, 1, LOGS_TAIL_MAX_LIMIT);
  const maxBytes = clampInt(params.maxBytes, LOGS_TAIL_DEFAULT_MAX_BYTES, 1, LOGS_TAIL_MAX_BYTES);
  const cursor = params.cursor === undefined || !Number.isFinite(params.cursor) ? undefined : Math.max(0, Math.floor(params.cursor));
  const empty: LogTailResult = { file, cursor: 0, size: 0, lines: [], truncated: false, reset: false };

  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return empty;
    throw new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `log read failed: ${(err as Error).message}`, { file }, { cause: err });
  }
  try {
    const size = (await handle.stat()).size;
    let start: number;
    let reset = false;
    let truncated = false;
    if (cursor === undefined) {
      start = Math.max(0, size - maxBytes);
      truncated = start > 0;
    } else if (cursor > size) {
      reset = true;
      start = Math.max(0, size - maxBytes);
      truncated = start > 0;
    } else if (size - cursor > maxBytes) {
      reset = true;
      truncated = true;
      start = size - maxBytes;
    } else {
      start = cursor;
    }
    if (size === 0 || start >= size) return { file, cursor: size, size, lines: [], truncated, reset };

    // One byte before `start` tells whether we begin on a line boundary.
    const readFrom = start > 0 ? start - 1 : 0;
    const buf = Buffer.alloc(size - readFrom);
    const { bytesRead } = await handle.read(buf, 0, buf.length, readFrom);
    const startsOnBoundary = start === 0 || buf[0] === 0x0a;
    const text = buf.toString("utf8", start > 0 ? 1 : 0, bytesRead);
    let lines = text.split("\n");
    if (!startsOnBoundary) lines = lines.slice(1);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    if (lines.length > limit) lines = lines.slice(lines.length - limit);
    return { file, cursor: size, size, lines, truncated, reset };
  } catch (err) {
    throw new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `log read failed: ${(err as Error).message}`, { file }, { cause: err });
  } finally {
    await handle.close();
  }
}
