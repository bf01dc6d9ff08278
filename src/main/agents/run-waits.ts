/**
 * `agent.wait` (§3.6): a 10-minute cache of finished runs fed by lifecycle events
 * (`end` → `ok`, `error` → `error` with `data.error`; `startedAt` from the event or
 * remembered from `start`), and waiters woken when a run finishes. A wait that starts after
 * the run ended is answered from the cache. In a cluster finished runs are also recorded in
 * the shared store and a wait here also watches it, so `agent.wait` works on any gateway
 * whichever one runs the run.
 */
import { TtlCache } from "./ttl-cache.js";
import type { SharedIdempotencySlot } from "./shared-idempotency.js";

/** `agent.wait` result. */
export type { WaitResult } from "./run-results.js";
import type { WaitResult } from "./run-results.js";

/** Cache entries kept at most (10 min each). */
const MAX_FINISHED = 10_000;

/** Finished runs and their waiters. */
export class RunWaits {
  readonly #done = new TtlCache<WaitResult>(10 * 60_000, MAX_FINISHED);
  readonly #started = new Map<string, number>();
  readonly #waiters = new Map<string, Set<(r: WaitResult) => void>>();
  readonly #shared: SharedIdempotencySlot;

  /** @param shared finished runs shared with other gateways (cluster). Default: none. */
  constructor(shared: SharedIdempotencySlot = {}) {
    this.#shared = shared;
  }

  /** `lifecycle start`. */
  started(runId: string, startedAt: number): void {
    this.#started.set(runId, startedAt);
  }

  /** `lifecycle end` / `error`. */
  finished(runId: string, data: Record<string, unknown>): void {
    const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
    const r: WaitResult = { runId, status: data.phase === "error" ? "error" : "ok" };
    const startedAt = num(data.startedAt) ?? this.#started.get(runId);
    if (startedAt !== undefined) r.startedAt = startedAt;
    const endedAt = num(data.endedAt);
    if (endedAt !== undefined) r.endedAt = endedAt;
    if (r.status === "error") r.error = typeof data.error === "string" ? data.error : JSON.stringify(data.error ?? "error");
    this.#started.delete(runId);
    this.#done.set(runId, r);
    this.#shared.current?.finished(r);
    const ws = this.#waiters.get(runId);
    this.#waiters.delete(runId);
    for (const w of ws ?? []) w(r);
  }

  /** Waits up to `timeoutMs` (0: cache only) for the run's end. */
  wait(runId: string, timeoutMs: number): Promise<WaitResult> {
    const hit = this.#done.get(runId);
    if (hit !== undefined) return Promise.resolve(hit);
    const share = this.#shared.current;
    const timedOut: WaitResult = { runId, status: "timeout" };
    if (timeoutMs <= 0) {
      if (share === undefined) return Promise.resolve(timedOut);
      return share.waitFinished(runId, 0, new AbortController().signal).then((r) => r ?? timedOut, () => timedOut);
    }
    return new Promise((resolve) => {
      let set = this.#waiters.get(runId);
      if (set === undefined) this.#waiters.set(runId, (set = new Set()));
      const abort = new AbortController();
      const waiter = (r: WaitResult): void => {
        clearTimeout(timer);
        abort.abort();
        set.delete(waiter);
        if (set.size === 0 && this.#waiters.get(runId) === set) this.#waiters.delete(runId);
        resolve(r);
      };
      // The run may be another gateway's: whichever answers first wins.
      share?.waitFinished(runId, timeoutMs, abort.signal).then((r) => r !== undefined && waiter(r), () => undefined);
      const timer = setTimeout(() => {
        abort.abort();
        set.delete(waiter);
        if (set.size === 0 && this.#waiters.get(runId) === set) this.#waiters.delete(runId);
        resolve(timedOut);
      }, timeoutMs);
      set.add(waiter);
    });
  }
}
