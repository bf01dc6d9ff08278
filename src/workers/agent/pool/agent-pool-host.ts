/**
 * Host side of the agent pool (runs on the gateway's main thread once wired in): a piscina
 * pool whose threads each hold many runs, one events-ring reader per slot, and per-run
 * bookkeeping. A run's final is released only after its terminal lifecycle event came off
 * the ring, so clients never see the result before the stream's end. A pool thread dying
 * mid-run fails its runs with `GW_ERR_WORKER_UNAVAILABLE` (retryable); piscina replaces the
 * thread and the slot is released for it.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { GatewayError } from "../../../shared/errors.js";
import { createRingCodec } from "../../../shared/ring/ring-codec.js";
import { MainRingWriter } from "../../../shared/ring/main-ring-writer.js";
import { RingReader } from "../../../shared/ring/ring-reader.js";
import { readRingStats } from "../../../shared/ring/ring-layout.js";
import type { AgentEvent } from "../agent-events.js";
import type { SessionTurnResult } from "../session-turn.js";
import { createRingSlotTable, releaseSlot } from "./ring-slot-table.js";
import type { RingSlotTable } from "./ring-slot-table.js";
import type { AgentPoolTask, AgentPoolWorkerData, PoolControlRecord, PoolEventRecord } from "./pool-protocol.js";

/** Options of `AgentPool`. */
export interface AgentPoolOptions {
  /** Every agent event, in per-run seq order. */
  onEvent: (ev: AgentEvent) => void;
  /** Pool threads. Default `defaultPoolThreads()`: one core left to the main thread, 1 to 4. */
  maxThreads?: number;
  /** Runs one thread holds at once. Default 64. */
  concurrentTasksPerWorker?: number;
  /** Idle threads retire after this many ms. Default 30000. */
  idleTimeout?: number;
  /** Events ring per thread, bytes. Default 1 MiB. */
  eventRingBytes?: number;
  /** Linux nice value of the pool threads. Default `AGENT_THREAD_NICE`. */
  nice?: number;
  /** Young-generation cap of each pool thread's heap, MB. Default `AGENT_THREAD_YOUNG_GENERATION_MB`. */
  youngGenerationMb?: number;
}

/** A submitted run. */
export interface PoolRun {
  runId: string;
  /** Settles after the run's terminal lifecycle event was delivered. */
  result: Promise<SessionTurnResult>;
  /** Asks the owning thread to abort the run (no-op once it ended). */
  abort(): void;
}

interface RunState {
  slot: number;
  abortRequested: boolean;
  ended: Promise<void>;
  markEnded: () => void;
}

export const AGENT_THREAD_NICE = 10;

/**
 * Young-generation cap of a pool thread's heap (MB). A thread parsing dozens of model streams
 * allocates fast and keeps every in-flight stream's state alive, so with V8's default young
 * generation each scavenge copies megabytes: pauses of 5–20 ms (p90 ~18, up to 55 ms) during
 * which no stream of that thread moves — the tail of chunk → frame latency. At 12 MB the
 * pauses halve (median ~4.4, p90 ~8.5, max ~16 ms) for ~15 % more scavenging time; smaller
 * caps shorten them further (6 MB: p90 ~5 ms) but cost ~0.5 ms of CPU per run in scavenges
 * (bench/agent.ts with `AGENT_BENCH_NODE_ARGS=--trace-gc`, docs/agent.md).
 */
export const AGENT_THREAD_YOUNG_GENERATION_MB = 12;

/**
 * Default pool size: the cores minus one (the main thread serves the control plane and
 * forwards every event), at least 1, at most 4. On 2 cores a second pool thread made each
 * run cost 40–120 % more CPU than one thread (bench/agent.ts: the three threads contend for
 * two cores) while adding no throughput; set `agents.pool.maxThreads` to override.
 */
export function defaultPoolThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Longest wait for a finished run's terminal event to come off the ring. */
const TERMINAL_EVENT_GRACE_MS = 5000;

const WORKER_ENTRY = new URL("../agent-pool-worker" + (import.meta.url.endsWith(".ts") ? ".ts" : ".js"), import.meta.url);

/** The piscina pool of agent threads plus their ring slots. */
export class AgentPool {
  readonly table: RingSlotTable;
  readonly maxThreads: number;
  readonly #pool: Piscina;
  readonly #readers: RingReader[];
  readonly #controls: MainRingWriter[];
  readonly #runs = new Map<string, RunState>();
  readonly #threadSlot = new Map<number, number>();
  readonly #codec = createRingCodec();
  readonly #onEvent: (ev: AgentEvent) => void;
  readonly #gcWaits = new Map<number, { left: number; done: () => void }>();
  #gcSeq = 0;

  constructor(opts: AgentPoolOptions) {
    const maxThreads = opts.maxThreads ?? defaultPoolThreads();
    this.maxThreads = maxThreads;
    // Spare slots: piscina may start a replacement before the old thread's destroy event.
    this.table = createRingSlotTable(maxThreads + 2, { eventRingBytes: opts.eventRingBytes });
    this.#onEvent = opts.onEvent;
    const useShim = WORKER_ENTRY.pathname.endsWith(".ts");
    const workerData: AgentPoolWorkerData = { agentEntry: WORKER_ENTRY.href, table: this.table, nice: opts.nice ?? AGENT_THREAD_NICE };
    this.#pool = new Piscina({
      filename: useShim ? fileURLToPath(new URL("./tsx-bootstrap.mjs", import.meta.url)) : fileURLToPath(WORKER_ENTRY),
      minThreads: 0,
      maxThreads,
      concurrentTasksPerWorker: opts.concurrentTasksPerWorker ?? 64,
      idleTimeout: opts.idleTimeout ?? 30_000,
      // `async` keeps an idle thread's event loop free (its control-ring reader uses waitAsync).
      atomics: "async",
      resourceLimits: { maxYoungGenerationSizeMb: opts.youngGenerationMb ?? AGENT_THREAD_YOUNG_GENERATION_MB },
      workerData,
    });
    this.#pool.on("workerDestroy", (w: { id: number }) => {
      const slot = this.#threadSlot.get(w.id);
      if (slot !== undefined) releaseSlot(this.table, slot, w.id);
      this.#threadSlot.delete(w.id);
    });
    this.#controls = this.table.slots.map((s) => new MainRingWriter(s.control));
    this.#readers = this.table.slots.map((s) => new RingReader(s.events, (payload) => this.#onRecord(this.#codec.decode(payload) as PoolEventRecord), { keepAlive: false }));
    for (const r of this.#readers) void r.start();
  }

  /** Submits a turn. `runId` must not be in flight already (the caller dedupes). */
  run(task: AgentPoolTask): PoolRun {
    if (this.#runs.has(task.runId)) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `run ${task.runId} is already in flight`);
    let markEnded = (): void => undefined;
    const ended = new Promise<void>((r) => (markEnded = r));
    const state: RunState = { slot: -1, abortRequested: false, ended, markEnded };
    this.#runs.set(task.runId, state);
    const result = (this.#pool.run(task) as Promise<SessionTurnResult>).then(
      async (res) => {
        // The thread drained its events before returning, so the terminal event is in the
        // ring; the bound only matters if the reader died (corrupt ring): never hang a caller.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([state.ended, new Promise<void>((r) => (timer = setTimeout(r, TERMINAL_EVENT_GRACE_MS)))]);
        clearTimeout(timer);
        this.#runs.delete(task.runId);
        return res;
      },
      (err: unknown) => {
        this.#runs.delete(task.runId);
        throw new GatewayError("GW_ERR_WORKER_UNAVAILABLE", `agent worker failed during run ${task.runId}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return { runId: task.runId, result, abort: () => this.#abort(task.runId) };
  }

  /** Records published on all event rings so far (tests, metrics). */
  ringRecords(): number {
    return this.table.slots.reduce((n, s) => n + readRingStats(s.events).records, 0);
  }

  /** Threads that announced themselves, with their slots. */
  threads(): Map<number, number> {
    return new Map(this.#threadSlot);
  }

  /** Live and maximum threads (health). */
  stats(): { threads: number; maxThreads: number } {
    return { threads: this.#pool.threads.length, maxThreads: this.maxThreads };
  }

  /** The pool's live threads (health, and crash tests that terminate one). */
  workers(): readonly Worker[] {
    return this.#pool.threads;
  }

  /**
   * Asks every live thread for a full garbage collection (only with `--expose-gc`; otherwise
   * the threads just answer) and resolves when all answered, or after `timeoutMs` (a thread
   * that died meanwhile never answers): memory readings in benchmarks.
   */
  collectGarbage(timeoutMs = 5000): Promise<void> {
    const slots = [...new Set(this.#threadSlot.values())];
    if (slots.length === 0) return Promise.resolve();
    const id = ++this.#gcSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const gcWaits = this.#gcWaits;
      function done(): void {
        clearTimeout(timer);
        gcWaits.delete(id);
        resolve();
      }
      gcWaits.set(id, { left: slots.length, done });
      for (const slot of slots) this.#sendControl(slot, { t: "gc", id });
    });
  }

  /** Stops the pool (in-flight runs are failed by piscina) and the readers. */
  async close(): Promise<void> {
    await this.#pool.destroy();
    for (const r of this.#readers) r.close();
  }

  #abort(runId: string): void {
    const st = this.#runs.get(runId);
    if (st === undefined) return;
    st.abortRequested = true;
    if (st.slot >= 0) this.#sendControl(st.slot, { t: "abort", runId });
  }

  #sendControl(slot: number, rec: PoolControlRecord): void {
    this.#controls[slot]!.write(this.#codec.encode(rec));
  }

  #onRecord(rec: PoolEventRecord): void {
    switch (rec.t) {
      case "hello":
        this.#threadSlot.set(rec.threadId, rec.slot);
        return;
      case "run": {
        const st = this.#runs.get(rec.runId);
        if (st === undefined) return;
        st.slot = rec.slot;
        if (st.abortRequested) this.#sendControl(rec.slot, { t: "abort", runId: rec.runId });
        return;
      }
      case "ev": {
        this.#onEvent(rec.ev);
        const phase = rec.ev.stream === "lifecycle" ? rec.ev.data.phase : undefined;
        if (phase === "end" || phase === "error") this.#runs.get(rec.ev.runId)?.markEnded();
        return;
      }
      case "gc": {
        const w = this.#gcWaits.get(rec.id);
        if (w !== undefined && --w.left === 0) w.done();
        return;
      }
      default: {
        const never: never = rec;
        throw new Error(`agent pool: unknown record ${JSON.stringify(never)}`);
      }
    }
  }
}
