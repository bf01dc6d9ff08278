/**
 * Run admission (§11.3 "Concurrency"): one run per session at a time (others queue in
 * arrival order) and at most `maxConcurrent` runs across sessions. A run waits for its
 * session first, then for a global slot, so a busy session never holds a global slot while
 * it waits. `acquire` resolves with a release function; a waiter whose signal aborts leaves
 * the queue and rejects.
 */

interface Waiter {
  start: () => void;
  cancelled: boolean;
}

/** Per-session FIFO lanes plus a global semaphore. */
export class RunLanes {
  readonly #sessions = new Map<string, Waiter[]>();
  readonly #busy = new Set<string>();
  readonly #global: Waiter[] = [];
  #running = 0;

  /** @param maxConcurrent read at each admission (config is live). */
  constructor(private readonly maxConcurrent: () => number) {}

  /** Runs holding a global slot. */
  get running(): number {
    return this.#running;
  }

  /** Runs waiting for their session or a slot. */
  get queued(): number {
    let n = this.#global.filter((w) => !w.cancelled).length;
    for (const q of this.#sessions.values()) n += q.filter((w) => !w.cancelled).length;
    return n;
  }

  /** True while a run of `key` holds (or waits for) a global slot. */
  isBusy(key: string): boolean {
    return this.#busy.has(key);
  }

  /** Waits for the session lane, then a global slot. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    await this.#enter(key, signal);
    try {
      await this.#slot(signal);
    } catch (err) {
      this.#leave(key);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#nextGlobal();
      this.#leave(key);
    };
  }

  /** Runs `fn` alone on the session lane (no global slot: transcript maintenance). */
  async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.#enter(key);
    try {
      return await fn();
    } finally {
      this.#leave(key);
    }
  }

  #wait(queue: Waiter[], signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { start: resolve, cancelled: false };
      queue.push(w);
      signal?.addEventListener(
        "abort",
        () => {
          if (w.cancelled) return;
          w.cancelled = true;
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted while queued"));
        },
        { once: true },
      );
    });
  }

  async #enter(key: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("aborted");
    if (!this.#busy.has(key)) {
      this.#busy.add(key);
      return;
    }
    let q = this.#sessions.get(key);
    if (q === undefined) this.#sessions.set(key, (q = []));
    await this.#wait(q, signal);
  }

  #leave(key: string): void {
    const q = this.#sessions.get(key);
    while (q !== undefined && q.length > 0) {
      const w = q.shift()!;
      if (w.cancelled) continue;
      w.cancelled = true; // consumed
      if (q.length === 0) this.#sessions.delete(key);
      w.start(); // the lane passes to it (busy stays set)
      return;
    }
    this.#sessions.delete(key);
    this.#busy.delete(key);
  }

  async #slot(signal?: AbortSignal): Promise<void> {
    if (this.#running < Math.max(1, this.maxConcurrent()) && this.#global.every((w) => w.cancelled)) {
      this.#running++;
      return;
    }
    await this.#wait(this.#global, signal);
  }

  #nextGlobal(): void {
    while (this.#global.length > 0 && this.#running < Math.max(1, this.maxConcurrent())) {
      const w = this.#global.shift()!;
      if (w.cancelled) continue;
      w.cancelled = true;
      this.#running++;
      w.start();
    }
  }
}
