/**
 * Records on a pool slot's rings (msgpackr, discriminated on `t`). Task submission and the
 * task's final result go through piscina's own task API (one structured clone per run);
 * only the per-run event stream and aborts use the rings.
 */
import type { AgentEvent } from "../agent-events.js";
import type { RingSlotTable } from "./ring-slot-table.js";
import type { SessionTurnInput } from "../session-turn.js";

/** Pool thread → host. */
export type PoolEventRecord =
  | { t: "hello"; threadId: number; slot: number }
  | { t: "run"; runId: string; slot: number }
  | { t: "ev"; ev: AgentEvent }
  /** Answer to a `gc` request. */
  | { t: "gc"; id: number };

/**
 * Host → pool thread. `gc`: a full collection in the thread when the process runs with
 * `--expose-gc` (memory readings in benchmarks), a no-op otherwise; answered with `gc`.
 */
export type PoolControlRecord = { t: "abort"; runId: string } | { t: "gc"; id: number };

/** `workerData` of every pool thread. */
export interface AgentPoolWorkerData {
  /** Module the tsx bootstrap loads (unused by compiled builds). */
  agentEntry: string;
  table: RingSlotTable;
  /** Linux nice value each pool thread lowers itself to at start (unset: inherited). */
  nice?: number;
}

/** A task: a session turn minus what cannot cross threads. */
export type AgentPoolTask = Omit<SessionTurnInput, "onEvent" | "signal">;
