/**
 * Public types of the worker supervisor.
 */
import type { WorkerOptions } from "node:worker_threads";
import type { LinkHandlers, WorkerProtocol } from "../../shared/ring/link-types.js";
import type { MainRingWriterOptions } from "../../shared/ring/main-ring-writer.js";
import type { RestartPolicyOptions } from "./restart-policy.js";

/** Life-cycle state of a supervised worker. */
export type WorkerRunState = "starting" | "running" | "backoff" | "broken" | "stopping" | "stopped";

/** Snapshot for health/status. */
export interface WorkerState {
  name: string;
  state: WorkerRunState;
  /** Restarts since start() (not counting the first spawn). */
  restarts: number;
  /** Why the last worker died or was killed, if it did. */
  lastError: string | null;
  lastExitCode: number | null;
  /** Generation of the current (or last) worker; each restart gets fresh rings and +1. */
  generation: number;
  /** ms epoch of the last state change. */
  since: number;
  /** ms epoch of the scheduled restart while in 'backoff'. */
  nextRestartAt: number | null;
  /** Requests waiting for an answer from the worker. */
  inFlight: number;
}

/** Minimal structured logger (pino-compatible). */
export interface SupervisorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of a WorkerSupervisor. */
export interface WorkerSupervisorOptions<P extends WorkerProtocol> {
  /** Worker name, used in logs, errors and getState(). */
  name: string;
  /** Worker entry module (URL or path). `.ts` entries are loaded through tsx. */
  entry: URL | string;
  /** Handlers for requests and events the worker sends to main. */
  handlers: LinkHandlers<P["main"]>;
  /** Data region size of each ring in bytes (one ring per direction). Default 1 MiB. */
  ringBytes?: number;
  /** Passed to the worker as `endpoint.user`. Must be structured-cloneable. Default undefined. */
  workerData?: unknown;
  /** Linux nice value of the worker thread, set before its entry loads (spawn-worker.ts). Default: inherited. */
  nice?: number;
  /** Extra Worker options (resourceLimits, env, stdout, ...). Default {}. */
  workerOptions?: Omit<WorkerOptions, "workerData" | "eval">;
  /** How often the worker bumps its heartbeat and the supervisor samples it, in ms. Default 1000. */
  heartbeatIntervalMs?: number;
  /** A running worker whose heartbeat has not moved for this long is terminated and restarted. Default 10 000. */
  heartbeatTimeoutMs?: number;
  /** A worker that does not report ready within this many ms is terminated. Default 30 000. */
  startTimeoutMs?: number;
  /** Default timeout of requests to the worker in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Bounds of the main -> worker overflow queue. Defaults: see MainRingWriterOptions. */
  overflow?: MainRingWriterOptions;
  /** Backoff and restart-loop breaker. Defaults: see RestartPolicyOptions. */
  restart?: RestartPolicyOptions;
  /** Structured logger. Default: silent. */
  logger?: SupervisorLogger;
}
