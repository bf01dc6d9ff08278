/**
 * The one JSONL append log: transcripts, the channel inbound queue and the outbox all sit on it.
 *
 *   append(r) ──┐                 one commit at a time
 *   append(r) ──┼─► pending lines ─────────────────────► write(all lines) → fsync → resolve all
 *   append(r) ──┘   (batch N+1 fills while batch N is being fsync'd)
 *
 * Group commit: every record appended while no commit runs (the same tick, e.g. the messages
 * of one agent turn) is written with ONE write(2) and made durable with ONE fsync; records
 * appended while a commit is in flight form the next batch. `append()` resolves only once its
 * record is on disk, so a caller that acknowledges after `await append()` never acknowledges
 * something a kill -9 or power cut can take back.
 *
 * Crash shape: a commit is a single append-mode write of whole lines, so a crash can only
 * leave a torn (newline-less) LAST line. Readers skip it; `AppendLog.open` truncates it before
 * appending so the next record does not glue onto garbage. Lines that are not JSON (a
 * filesystem that lost data mid-file) are skipped and counted, never fatal.
 *
 * One writer per file: this module does not lock against another process appending.
 */
import { open, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { GatewayError } from "../errors.js";
import { errnoCode, openCreatingParents } from "./open-file.js";

/** Default upper bound of one serialised record (bytes, newline excluded): 8 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;
const NL = 0x0a;

/** Options of `AppendLog.open`. */
export interface AppendLogOptions {
  /** Largest accepted record once serialised (bytes). Bigger appends reject. Default 8 MiB. */
  maxLineBytes?: number;
  /** Mode of a newly created file. Default `0o600`. */
  mode?: number;
  /** Mode of parent directories created on the way. Default `0o700`. */
  dirMode?: number;
  /**
   * fsync each commit. Default true. `false` exists only so benchmarks can show the cost of
   * durability; an appended record is then NOT safe against a power cut when `append` resolves.
   */
  fsync?: boolean;
}

/** What `readAppendLog` found. */
export interface AppendLogContents<T> {
  records: T[];
  /** Complete lines that were not JSON or longer than `maxLineBytes` (skipped). */
  skipped: number;
  /** True when the file ended in a newline-less fragment (a torn last write; ignored). */
  tornTail: boolean;
}

interface PendingBatch {
  chunks: Buffer[];
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}


/**
 * Truncates a torn (newline-less) tail so the file ends after its last complete line.
 * Returns the number of bytes removed (0 when the file was clean or missing).
 */
export async function repairTornTail(file: string): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r+");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return 0;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let end = size;
    // Scan backwards for the last newline; everything after it is the torn fragment.
    while (end > 0) {
      const start = Math.max(0, end - READ_CHUNK);
      const { bytesRead } = await handle.read(buf, 0, end - start, start);
      const nl = buf.subarray(0, bytesRead).lastIndexOf(NL);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      end = start;
    }
    if (end === size) return 0;
    await handle.truncate(end);
    await handle.sync();
    return size - end;
  } finally {
    await handle.close();
  }
}

/**
 * Reads records from the end of the log towards its start, newest first, and stops at the
 * first one `visit` returns true for: what an appender needs (the last entry's id) costs the
 * last line or so, not a parse of the whole file. A torn last line and malformed lines are
 * skipped, as `readAppendLog` does. Missing file → nothing visited.
 */
export async function scanAppendLogBackwards(file: string, visit: (record: unknown) => boolean): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    // Bytes of the line being assembled (read backwards: later parts first); the bytes after
    // the file's last newline are a torn line and never form a record.
    let tail: Buffer[] = [];
    let torn = true;
    const line = (bytes: Buffer[]): boolean => {
      if (torn) {
        torn = false;
        return false;
      }
      const text = Buffer.concat(bytes).toString("utf8");
      if (text === "") return false;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        return false;
      }
      return visit(record);
    };
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - READ_CHUNK);
      const { bytesRead } = await handle.read(buf, 0, end - start, start);
      const chunk = buf.subarray(0, bytesRead);
      let stop = chunk.length;
      for (let nl = chunk.lastIndexOf(NL, stop - 1); nl >= 0; nl = stop > 0 ? chunk.lastIndexOf(NL, stop - 1) : -1) {
        const done = line([Buffer.from(chunk.subarray(nl + 1, stop)), ...tail]);
        tail = [];
        if (done) return;
        stop = nl;
      }
      tail = [Buffer.from(chunk.subarray(0, stop)), ...tail];
      end = start;
    }
    line(tail);
  } finally {
    await handle.close();
  }
}

/**
 * Reads every record of a log, streaming in 64 KiB chunks (memory stays bounded by
 * `maxLineBytes` per line). Missing file → no records. Never throws on content.
 */
export async function readAppendLog<T = unknown>(file: string, opts: { maxLineBytes?: number } = {}): Promise<AppendLogContents<T>> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const out: AppendLogContents<T> = { records: [], skipped: 0, tornTail: false };
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return out;
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let oversized = false;
    const finishLine = (): void => {
      if (oversized) out.skipped++;
      else if (partBytes > 0) {
        try {
          out.records.push(JSON.parse(Buffer.concat(parts, partBytes).toString("utf8")) as T);
        } catch {
          out.skipped++;
        }
      }
      parts = [];
      partBytes = 0;
      oversized = false;
    };
    const take = (slice: Buffer): void => {
      if (oversized) return;
      if (partBytes + slice.length > maxLine) {
        oversized = true; // drop the bytes, keep scanning for the line's end
        parts = [];
        return;
      }
      parts.push(Buffer.from(slice)); // copy: `buf` is reused for the next read
      partBytes += slice.length;
    };
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, READ_CHUNK, null);
      if (bytesRead === 0) break;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(NL, from);
        if (nl < 0 || nl >= bytesRead) {
          take(buf.subarray(from, bytesRead));
          break;
        }
        take(buf.subarray(from, nl));
        finishLine();
        from = nl + 1;
      }
    }
    out.tornTail = partBytes > 0 || oversized;
    return out;
  } finally {
    await handle.close();
  }
}

/** An open append log (one writer). Create with `AppendLog.open`. */
export class AppendLog<T = unknown> {
  readonly file: string;
  readonly #handle: FileHandle;
  readonly #maxLine: number;
  #pending: PendingBatch | null = null;
  #committing: Promise<void> | null = null;
  #closed = false;
  #commits = 0;
  /** Bytes known to be whole lines on disk: a failed commit truncates back to it. */
  #goodSize: number;
  readonly #fsync: boolean;

  private constructor(file: string, handle: FileHandle, maxLine: number, size: number, fsync: boolean) {
    this.file = file;
    this.#fsync = fsync;
    this.#handle = handle;
    this.#maxLine = maxLine;
    this.#goodSize = size;
  }

  /** Opens (creating if needed) `file` for appending, after repairing a torn tail. */
  static async open<T = unknown>(file: string, opts: AppendLogOptions = {}): Promise<AppendLog<T>> {
    await repairTornTail(file);
    const handle = await openCreatingParents(file, "a", opts.mode ?? 0o600, opts.dirMode ?? 0o700);
    const { size } = await handle.stat();
    return new AppendLog<T>(file, handle, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, size, opts.fsync ?? true);
  }

  /** Number of write+fsync commits so far (tests and metrics). */
  get commits(): number {
    return this.#commits;
  }

  /** Current size of the file in bytes. */
  async size(): Promise<number> {
    return (await stat(this.file)).size;
  }

  /** Appends one record; resolves once it is durable (fsync'd). */
  append(record: T): Promise<void> {
    return this.appendMany([record]);
  }

  /**
   * Appends records as one unit of the next commit; resolves once all are durable. Rejects
   * (appending nothing) when one serialises past `maxLineBytes` or the log is closed.
   */
  appendMany(records: readonly T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new GatewayError("GW_ERR_STORE_WRITE_FAILED", `append log ${this.file} is closed`));
    const chunks: Buffer[] = [];
    for (const r of records) {
      const line = Buffer.from(`${JSON.stringify(r)}\n`, "utf8");
      if (line.length - 1 > this.#maxLine) {
        return Promise.reject(
          new GatewayError("GW_ERR_STORE_WRITE_FAILED", `record of ${line.length - 1} bytes exceeds the ${this.#maxLine}-byte line limit of ${this.file}`, {
            path: this.file,
            reason: "line too large",
          }),
        );
      }
      chunks.push(line);
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending ??= { chunks: [], waiters: [] };
      this.#pending.chunks.push(...chunks);
      this.#pending.waiters.push({ resolve, reject });
      this.#committing ??= this.#commitLoop();
    });
  }

  /** Resolves when everything appended so far is durable (or has failed). */
  async flush(): Promise<void> {
    while (this.#committing !== null) await this.#committing;
  }

  /** Flushes, then closes the file. Later appends reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    await this.#handle.close();
  }

  async #commitLoop(): Promise<void> {
    // Yield once so every append of the current tick joins the first batch.
    await Promise.resolve();
    try {
      while (this.#pending !== null) {
        const batch = this.#pending;
        this.#pending = null;
        try {
          const data = batch.chunks.length === 1 ? batch.chunks[0]! : Buffer.concat(batch.chunks);
          let off = 0;
          while (off < data.length) off += (await this.#handle.write(data, off, data.length - off)).bytesWritten;
          if (this.#fsync) await this.#handle.sync();
          this.#goodSize += data.length;
          this.#commits++;
          for (const w of batch.waiters) w.resolve();
        } catch (err) {
          // Cut a partial write back off so the next batch does not glue onto a fragment.
          await this.#handle.truncate(this.#goodSize).catch(() => undefined);
          const e = new GatewayError("GW_ERR_STORE_WRITE_FAILED", `could not append to ${this.file}: ${(err as Error).message}`, { path: this.file, errno: errnoCode(err) });
          for (const w of batch.waiters) w.reject(e);
        }
      }
    } finally {
      this.#committing = null;
    }
  }
}
