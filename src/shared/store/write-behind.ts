/**
 * Write-behind for state files: writes are serialised (one in flight at a time) and bursts
 * coalesce — while one write is in flight, any number of further requests collapse into ONE
 * follow-up write of the latest state. Failed writes are retried with backoff; `flush()` lets a
 * caller wait until its state is on disk (persist before acknowledging).
 */
import { GatewayError } from "../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "./atomic-json.js";
import type { AtomicWriteOptions } from "./atomic-json.js";

/** Options of `WriteBehindQueue`. */
export interface WriteBehindOptions {
  /** Called when a background write fails (the queue retries by itself). Default: ignore (see `flush`). */
  onError?: (err: unknown) => void;
  /** First retry delay after a failed write; doubles up to `maxRetryDelayMs`. Default `1000`. */
  retryDelayMs?: number;
  /** Upper bound of the retry delay. Default `30000`. */
  maxRetryDelayMs?: number;
  /**
   * Pacing for whole-file rewrites whose cost grows with the state (`0 < share < 1`): the
   * next write waits until the synchronous part of the last one (snapshot + serialise) is at
   * most this share of the time since it started, so back-to-back writes of a large state
   * take at most that share of the thread, and bursts coalesce into fewer writes. A small
   * state costs microseconds and is not delayed noticeably. Default: no pacing.
   */
  maxBusyShare?: number;
}

/** Longest pause pacing ever inserts between two writes. */
const MAX_PACE_MS = 250;

interface FlushWaiter {
  gen: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Serialised, coalescing write-behind. `schedule()` marks the state dirty; the `task` (which
 * snapshots the CURRENT state and writes it) runs at most once at a time. Requests made while a
 * task is in flight collapse into one follow-up run, so a burst of N mutations costs ≤ 2 writes.
 * A synchronous burst in one tick costs 1 write (the first run starts on the next microtask).
 */
export class WriteBehindQueue {
  readonly #task: () => Promise<void>;
  readonly #opts: WriteBehindOptions;
  #requested = 0;
  #written = 0;
  #running: Promise<unknown> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelay: number;
  #runs = 0;
  #waiters: FlushWaiter[] = [];
  /** Synchronous time of the last task call, and when it started (performance.now()). */
  #lastSyncMs = 0;
  #lastStart = Number.NEGATIVE_INFINITY;

  constructor(task: () => Promise<void>, opts: WriteBehindOptions = {}) {
    this.#task = task;
    this.#opts = opts;
    this.#retryDelay = opts.retryDelayMs ?? 1000;
  }

  /** How many times the task has started (tests and metrics). */
  get runs(): number {
    return this.#runs;
  }

  /** True while state is dirty or a write is in flight. */
  get pending(): boolean {
    return this.#written < this.#requested || this.#running !== null;
  }

  /** Marks the state dirty; a write of the latest state will follow. */
  schedule(): void {
    this.#requested++;
    if (this.#running === null) this.#start();
  }

  /**
   * Generation of the latest `schedule()` (a counter). `durable(gen)` tells whether the state of
   * that generation is on disk; `flushTo(gen)` waits for it.
   */
  get generation(): number {
    return this.#requested;
  }

  /** True once the state of generation `gen` (see `generation`) is on disk. */
  durable(gen: number): boolean {
    return this.#written >= gen;
  }

  /**
   * Resolves once every state scheduled before the call is on disk (starting a write if
   * needed); rejects with `GW_ERR_STORE_WRITE_FAILED` if that write failed.
   */
  flush(): Promise<void> {
    return this.flushTo(this.#requested);
  }

  /**
   * Group commit: resolves as soon as a write that covers generation `gen` has completed —
   * not when the queue goes idle, so under a steady stream of mutations a waiter is released
   * by the first write that includes its state (≤ 2 writes later), all waiters of one write
   * together. Rejects with `GW_ERR_STORE_WRITE_FAILED` when that write fails (the queue keeps
   * retrying in the background; a later `flushTo` starts a new attempt at once).
   */
  flushTo(gen: number): Promise<void> {
    if (this.#written >= gen) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ gen, resolve, reject }));
    if (this.#running === null) this.#start();
    return p;
  }

  /** Cancels a pending retry timer (call on shutdown after `flush`). */
  stop(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #start(): void {
    this.stop();
    this.#running = this.#drain();
  }

  // `#running` is cleared in the same synchronous run that releases the last waiters (not in a
  // `.finally` callback or an outer await, which run a microtask later): a released waiter may
  // schedule again at once and must then find the queue idle, so its `schedule()` starts a drain.
  async #drain(): Promise<void> {
    try {
      await Promise.resolve();
      while (this.#written < this.#requested) {
        await this.#pace();
        const gen = this.#requested;
        this.#runs++;
        try {
          this.#lastStart = performance.now();
          const written = this.#task();
          this.#lastSyncMs = performance.now() - this.#lastStart;
          await written;
        } catch (err) {
          this.#opts.onError?.(err);
          this.#failWaiters(err);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            if (this.#running === null && this.#written < this.#requested) this.#start();
          }, this.#retryDelay);
          this.#retryTimer.unref();
          this.#retryDelay = Math.min(this.#retryDelay * 2, this.#opts.maxRetryDelayMs ?? 30000);
          return;
        }
        this.#written = gen;
        this.#retryDelay = this.#opts.retryDelayMs ?? 1000;
        this.#releaseWaiters();
      }
    } finally {
      this.#running = null;
    }
  }

  /** Waits, when `maxBusyShare` is set, until the last write's synchronous work fits its share. */
  async #pace(): Promise<void> {
    const share = this.#opts.maxBusyShare;
    if (share === undefined || share <= 0 || share >= 1) return;
    const until = this.#lastStart + Math.min(MAX_PACE_MS, this.#lastSyncMs / share);
    // Re-checked after each timer: libuv's cached clock can make a timer fire early.
    for (let wait = until - performance.now(); wait > 0.2; wait = until - performance.now()) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
  }

  #releaseWaiters(): void {
    if (this.#waiters.length === 0) return;
    const keep: FlushWaiter[] = [];
    for (const w of this.#waiters) {
      if (w.gen <= this.#written) w.resolve();
      else keep.push(w);
    }
    this.#waiters = keep;
  }

  #failWaiters(err: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    const e = err instanceof GatewayError ? err : new GatewayError("GW_ERR_STORE_WRITE_FAILED", `state write failed: ${String(err)}`);
    for (const w of waiters) w.reject(e);
  }
}

/** Options of `JsonFileWriter`. */
export interface JsonFileWriterOptions extends AtomicWriteOptions, WriteBehindOptions {}

/** JSON already serialised by its owner (text or UTF-8 bytes), for `JsonFileWriter` to write verbatim. */
export class SerialisedJson {
  constructor(readonly data: string | Uint8Array) {}
}

/** One JSON file kept in sync with an in-memory state through a `WriteBehindQueue`. */
export class JsonFileWriter {
  readonly file: string;
  readonly #queue: WriteBehindQueue;

  /**
   * `snapshot` is called at write time and returns the latest state to persist; a
   * `SerialisedJson` is written as is (a store that keeps its JSON serialised per entry hands over the text).
   */
  constructor(file: string, snapshot: () => unknown, opts: JsonFileWriterOptions = {}) {
    this.file = file;
    this.#queue = new WriteBehindQueue(() => {
      const value = snapshot();
      return value instanceof SerialisedJson ? writeFileAtomic(file, value.data, opts) : writeJsonAtomic(file, value, opts);
    }, opts);
  }

  /** Number of writes started so far. */
  get writes(): number {
    return this.#queue.runs;
  }

  /** Marks the state dirty (write-behind). */
  schedule(): void {
    this.#queue.schedule();
  }

  /** Resolves when everything scheduled so far is on disk. */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Flushes, then cancels retry timers. */
  async close(): Promise<void> {
    try {
      await this.#queue.flush();
    } finally {
      this.#queue.stop();
    }
  }
}
