/**
 * The outbox: idempotent outbound sends keyed by an idempotency key, on the JSONL append log.
 *
 *   run(key, send):
 *     done before          → the cached result (ok or error), never sent again
 *     in flight (this run) → the same promise
 *     pending from a previous process (the gateway died between the outbox record and the
 *       outcome) → UNAVAILABLE "outcome unknown": the platform may or may not have it, and
 *       sending again could deliver twice. At-most-once is the contract.
 *     new                  → {state:"pending"} fsync'd, THEN send, then {state:"done"|"failed"}
 *
 * A send that fails because the worker died before answering is recorded as failed (cached):
 * the message may have left, so a retry under the same key must not send it again.
 */
import { ERROR_REGISTRY, GatewayError, type GatewayErrorCode } from "../errors.js";
import { AppendLog, readAppendLog } from "./append-log.js";

/** One line of the outbox file. */
export type OutboxRecord =
  | { key: string; state: "pending"; ts: number }
  | { key: string; state: "done"; ts: number; result: unknown }
  | { key: string; state: "failed"; ts: number; error: { code: string; message: string } };

type Settled = { state: "done"; result: unknown } | { state: "failed"; error: { code: string; message: string } } | { state: "unknown" };

/** Options of `Outbox.open`. */
export interface OutboxOptions {
  /** fsync each commit (default true; false only for benchmarks). */
  fsync?: boolean;
}

/** Idempotent sends. One writer (the gateway's main thread). */
export class Outbox {
  readonly #log: AppendLog<OutboxRecord>;
  readonly #settled: Map<string, Settled>;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  private constructor(log: AppendLog<OutboxRecord>, settled: Map<string, Settled>) {
    this.#log = log;
    this.#settled = settled;
  }

  static async open(file: string, opts: OutboxOptions = {}): Promise<Outbox> {
    const { records } = await readAppendLog<OutboxRecord>(file);
    const settled = new Map<string, Settled>();
    for (const r of records) {
      if (typeof r !== "object" || r === null || typeof r.key !== "string") continue;
      if (r.state === "pending") settled.set(r.key, { state: "unknown" });
      else if (r.state === "done") settled.set(r.key, { state: "done", result: r.result });
      else if (r.state === "failed") settled.set(r.key, { state: "failed", error: r.error });
    }
    const log = await AppendLog.open<OutboxRecord>(file, { fsync: opts.fsync });
    return new Outbox(log, settled);
  }

  /** True when `key` was settled or attempted before (it will never be sent again). */
  has(key: string): boolean {
    return this.#settled.has(key) || this.#inFlight.has(key);
  }

  /** Runs `send` at most once per key, ever; see the module comment. */
  run<R>(key: string, send: () => Promise<R>): Promise<R> {
    const flying = this.#inFlight.get(key);
    if (flying) return flying as Promise<R>;
    const prior = this.#settled.get(key);
    if (prior) return replay<R>(key, prior);
    const p = this.#attempt(key, send).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  async #attempt<R>(key: string, send: () => Promise<R>): Promise<R> {
    await this.#log.append({ key, state: "pending", ts: Date.now() });
    let result: R;
    try {
      result = await send();
    } catch (err) {
      const error = { code: err instanceof GatewayError ? err.code : "UNAVAILABLE", message: err instanceof Error ? err.message : String(err) };
      this.#settled.set(key, { state: "failed", error });
      await this.#log.append({ key, state: "failed", ts: Date.now(), error }).catch(() => undefined);
      throw err;
    }
    this.#settled.set(key, { state: "done", result });
    await this.#log.append({ key, state: "done", ts: Date.now(), result });
    return result;
  }

  async close(): Promise<void> {
    await this.#log.close();
  }
}

function replay<R>(key: string, s: Settled): Promise<R> {
  if (s.state === "done") return Promise.resolve(s.result as R);
  if (s.state === "failed") return Promise.reject(new GatewayError(asCode(s.error.code), s.error.message, { idempotencyKey: key }));
  return Promise.reject(
    new GatewayError("GW_ERR_CHANNEL_OUTCOME_UNKNOWN", `send ${key} was interrupted by a restart; its outcome is unknown and it is not sent again`, { idempotencyKey: key }),
  );
}

function asCode(code: string): GatewayErrorCode {
  return code in ERROR_REGISTRY ? (code as GatewayErrorCode) : "GW_ERR_CHANNEL_SEND_FAILED";
}
