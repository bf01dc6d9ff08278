/**
 * The injection point through which `agent`, `chat.send` and `agent.wait` share their
 * idempotency keys and run results with other gateways (the cluster's dedupe bucket,
 * src/main/cluster/cluster-dedupe-module.ts). Empty on a single gateway: the in-process
 * `TtlCache` and `RunWaits` are then the whole story.
 *
 * With it set, a key is claimed in the shared store before a run starts (first writer
 * wins), so a retry of the same idempotency key on another gateway is answered with the
 * original's state — its final answer once recorded, else what the local cache answers for a
 * run in flight — and is never run twice.
 */
import type { DedupeEntry, WaitResult } from "./run-results.js";

/** Outcome of a claim: this gateway runs it, or another gateway did (with what it recorded so far). */
export type ClaimResult = { won: true } | { won: false; final: DedupeEntry | undefined; ack: DedupeEntry | undefined; owner: string | undefined };

/** Shared idempotency keys (`agent:<key>`, `chat:<key>`) and finished runs. */
export interface SharedIdempotency {
  /**
   * Claims `key` with the answer given while the run is in flight (`ack`; none for
   * `chat.send`). While the broker is down it answers `won` (local work goes on, deduped
   * locally only); rejects GW_ERR_CLUSTER_UNAVAILABLE (retryable) when a connected broker
   * does not answer in time.
   */
  claim(key: string, ack: DedupeEntry | undefined): Promise<ClaimResult>;
  /**
   * The final answer of `key` once its owner records it, waiting up to `timeoutMs`:
   * undefined then, null as soon as the claim is released (its run failed retryably: a retry
   * may claim it anew).
   */
  awaitFinal(key: string, timeoutMs: number): Promise<DedupeEntry | null | undefined>;
  /** Records the final answer of a claimed key (best-effort once the broker is back). */
  settle(key: string, final: DedupeEntry): void;
  /** Gives up a claim whose run never started, so that a retry may run it. */
  release(key: string): void;
  /** Whether claims are answered from the shared store now (broker connected, bucket open); a store without the notion leaves it out. */
  ready?(): boolean;
  /** Records a finished run for `agent.wait` on other gateways. */
  finished(result: WaitResult): void;
  /** The run's result recorded by any gateway, waiting up to `timeoutMs`; undefined at timeout or abort. */
  waitFinished(runId: string, timeoutMs: number, signal: AbortSignal): Promise<WaitResult | undefined>;
}

/** How long a retry waits for the final of a run that already ended elsewhere (ms). */
export const FINAL_GRACE_MS = 2000;

/**
 * The recorded final of a key another gateway claimed, also when the retry arrives between
 * the end of that gateway's run (which `agent.wait` already reports) and the record of its
 * answer; undefined while the run goes on.
 */
export async function finalOf(share: SharedIdempotency, key: string, runId: string, known: DedupeEntry | undefined, ended: (runId: string) => Promise<boolean>): Promise<DedupeEntry | undefined> {
  if (known !== undefined) return known;
  return (await ended(runId)) ? ((await share.awaitFinal(key, FINAL_GRACE_MS)) ?? undefined) : undefined;
}

/** Filled by the cluster when enabled; read at each call. */
export interface SharedIdempotencySlot {
  current?: SharedIdempotency;
}
