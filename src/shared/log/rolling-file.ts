/**
 * A pino destination that writes JSON lines to a file, switching files on a new local
 * day (daily mode) or before a line would push the file past `maxFileBytes`.
 *
 *   open ──write──▶ open ──(day changed | size exceeded)──▶ switching ──▶ open
 *     ▲                                                     │ end old stream (flushes)
 *   opening (stat size, create stream)                      │ size: <f>.N-1→<f>.N … <f>→<f>.1
 *                                                           │ day:  new dated path, prune old
 *
 * `write` never touches the disk synchronously: lines go into an fs.WriteStream (whose
 * buffered writes become one writev), and while a file is being opened or switched they
 * wait in an in-memory queue, in order. A file never exceeds `maxFileBytes` unless a
 * single line is larger than the limit (it then gets a file of its own).
 * An I/O failure is reported once (`error` event, or stderr without listeners) and the
 * destination stops writing instead of throwing into the logger.
 */
import { EventEmitter } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

import { ensurePrivateDir } from "../private-dir.js";
import { defaultLogDir, nextLocalMidnight, ROLLING_LOG_FAMILY_RE, rollingLogPath } from "./log-paths.js";

// O_NOFOLLOW: a log file name that is a symlink (planted in a shared directory) is refused
// with ELOOP instead of appending to whatever it points at. 0 where the OS lacks it.
const APPEND_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0);

/** Options of `RollingFileDestination`. */
export interface RollingFileOptions {
  /** Fixed log file. When unset, daily files `<dir>/clawdbot-YYYY-MM-DD.log` (local date). */
  file?: string;
  /**
   * Directory of the daily files. Default `defaultLogDir()` (`/tmp/clawdbot`, or
   * `/tmp/clawdbot-<uid>` when another user owns that). The daily directory must be a
   * private directory of ours (created 0700; refused otherwise, see private-dir.ts).
   */
  dir?: string;
  /** Rotate before a line would push the file past this many bytes. Default 10 MiB. */
  maxFileBytes?: number;
  /** Rotated files kept next to the live one (`<file>.1` newest … `<file>.N`). Default 5; 0 = truncate. */
  maxFiles?: number;
  /** Daily mode: delete dated files (and rotations) not modified for this long. Default 24 h; 0 = never. */
  pruneAfterMs?: number;
  /** Clock (epoch ms). Default `Date.now`. */
  now?: () => number;
}

type State = "opening" | "open" | "switching" | "closing" | "closed" | "failed";

const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

function endStream(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed || stream.destroyed) return resolve();
    stream.once("close", () => resolve());
    stream.once("error", () => resolve());
    stream.end();
  });
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** See the module comment. Pass it to pino (directly or via `pino.multistream`). */
export class RollingFileDestination extends EventEmitter<{ error: [Error]; rotate: [string] }> {
  private readonly fixedFile: string | undefined;
  private readonly dir: string;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private readonly pruneAfterMs: number;
  private readonly now: () => number;
  private state: State = "opening";
  private stream: fs.WriteStream | undefined;
  private queue: string[] = [];
  private size = 0;
  private dayEnd = Number.POSITIVE_INFINITY;
  private currentPath: string;
  private transition: Promise<void>;
  private reported = false;
  private pruning: Promise<void> = Promise.resolve();

  constructor(opts: RollingFileOptions = {}) {
    super();
    this.fixedFile = opts.file === undefined ? undefined : path.resolve(opts.file);
    this.dir = opts.dir ?? defaultLogDir();
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
    this.pruneAfterMs = opts.pruneAfterMs ?? DAY_MS;
    this.now = opts.now ?? Date.now;
    this.currentPath = this.pathFor(this.now());
    this.transition = this.openFile();
  }

  /** The file currently written. */
  get file(): string {
    return this.currentPath;
  }

  /** Accepts one serialised line (pino includes the trailing newline). */
  write(line: string): boolean {
    switch (this.state) {
      case "open":
        return this.writeOpen(line);
      case "opening":
      case "switching":
        this.queue.push(line);
        return true;
      default:
        return false;
    }
  }

  /** Resolves when every line accepted so far has been handed to the OS. */
  async flush(): Promise<void> {
    for (;;) {
      const t = this.transition;
      await t;
      const stream = this.stream;
      if (stream !== undefined && this.state === "open" && !stream.destroyed) {
        await new Promise<void>((resolve) => stream.write("", () => resolve()));
      }
      if (t === this.transition && this.queue.length === 0) return;
    }
  }

  /** Flushes and closes the file. Later writes are dropped. */
  async close(): Promise<void> {
    await this.flush();
    if (this.state === "closed") return;
    this.state = "closing";
    if (this.stream !== undefined) await endStream(this.stream);
    this.stream = undefined;
    await this.pruning;
    this.state = "closed";
  }

  private pathFor(ms: number): string {
    return this.fixedFile ?? rollingLogPath(ms, this.dir);
  }

  private writeOpen(line: string): boolean {
    if (this.now() >= this.dayEnd) {
      this.queue.push(line);
      this.beginSwitch("day");
      return true;
    }
    const len = Buffer.byteLength(line);
    if (this.size > 0 && this.size + len > this.maxFileBytes) {
      this.queue.push(line);
      this.beginSwitch("size");
      return true;
    }
    this.size += len;
    return (this.stream as fs.WriteStream).write(line);
  }

  private beginSwitch(kind: "day" | "size"): void {
    this.state = "switching";
    this.transition = this.switchFile(kind);
  }

  private async switchFile(kind: "day" | "size"): Promise<void> {
    try {
      if (this.stream !== undefined) await endStream(this.stream);
      this.stream = undefined;
      if (kind === "size") await this.rotate(this.currentPath);
      else this.currentPath = this.pathFor(this.now());
    } catch (err) {
      this.fail(err);
      return;
    }
    this.emit("rotate", this.currentPath);
    await this.openFile();
  }

  /** `<f>.N-1 → <f>.N`, …, `<f> → <f>.1`; with `maxFiles` 0 the file is just removed. */
  private async rotate(file: string): Promise<void> {
    if (this.maxFiles <= 0) {
      await fsp.rm(file, { force: true });
      return;
    }
    for (let i = this.maxFiles - 1; i >= 1; i--) await renameIfExists(`${file}.${i}`, `${file}.${i + 1}`);
    await renameIfExists(file, `${file}.1`);
  }

  private async openFile(): Promise<void> {
    const file = this.currentPath;
    try {
      // Daily files live in a shared place (/tmp): the directory must be ours and private.
      // A configured `logging.file` is where the operator put it; only its parents are made.
      if (this.fixedFile === undefined) await ensurePrivateDir(this.dir);
      else await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const handle = await fsp.open(file, APPEND_FLAGS, 0o600);
      let size: number;
      try {
        const st = await handle.stat();
        if (!st.isFile()) throw new Error(`${file} is not a regular file`);
        size = st.size;
      } catch (err) {
        await handle.close();
        throw err;
      }
      const stream = fs.createWriteStream(file, { fd: handle, flags: "a" });
      stream.on("error", (err) => this.fail(err));
      this.stream = stream;
      this.size = size;
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.fixedFile === undefined) {
      this.dayEnd = nextLocalMidnight(this.now());
      this.pruning = this.prune();
    }
    this.state = "open";
    const pending = this.queue;
    this.queue = [];
    for (let i = 0; i < pending.length; i++) {
      if (this.state !== "open") {
        // A queued line triggered another switch: keep the rest, in order, behind it.
        this.queue.push(...pending.slice(i));
        break;
      }
      this.writeOpen(pending[i] as string);
    }
  }

  /** Deletes dated log files (and rotations) older than `pruneAfterMs`; best effort. */
  private async prune(): Promise<void> {
    if (this.pruneAfterMs <= 0) return;
    const cutoff = this.now() - this.pruneAfterMs;
    try {
      for (const name of await fsp.readdir(this.dir)) {
        if (!ROLLING_LOG_FAMILY_RE.test(name)) continue;
        const full = path.join(this.dir, name);
        if (full === this.currentPath || full.startsWith(`${this.currentPath}.`)) continue;
        const st = await fsp.stat(full).catch(() => undefined);
        if (st !== undefined && st.mtimeMs < cutoff) await fsp.rm(full, { force: true });
      }
    } catch {
      // Pruning is housekeeping; a failure must not affect logging.
    }
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.state = "failed";
    this.queue = [];
    this.stream?.destroy();
    this.stream = undefined;
    if (this.reported) return;
    this.reported = true;
    if (this.listenerCount("error") > 0) this.emit("error", e);
    else process.stderr.write(`clawgate: log file ${this.currentPath} disabled: ${e.message}\n`);
  }
}
