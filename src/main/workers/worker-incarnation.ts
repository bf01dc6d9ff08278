/**
 * One incarnation of a supervised worker: its thread, its fresh pair of rings, and the
 * main-side link over them. Incarnations are never reused; a restart creates a new one
 * with generation + 1, so nothing a dead worker half-wrote can reach its successor.
 */
import type { Worker } from "node:worker_threads";
import type { GatewayError } from "../../shared/errors.js";
import { Link } from "../../shared/ring/link.js";
import type { WorkerProtocol } from "../../shared/ring/link-types.js";
import { closeRing } from "../../shared/ring/ring-layout.js";
import { createWorkerLinkData } from "../../shared/ring/worker-link.js";
import type { WorkerLinkData } from "../../shared/ring/worker-link.js";
import { spawnWorkerThread } from "./spawn-worker.js";
import type { WorkerSupervisorOptions } from "./supervisor-types.js";

export interface Incarnation<P extends WorkerProtocol> {
  generation: number;
  worker: Worker;
  link: Link<P["main"], P["worker"]>;
  data: WorkerLinkData;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  readyAt: number | null;
  /** First known reason of death (uncaught error, watchdog verdict). */
  failure: string | null;
  killed: boolean;
}

/** Callbacks from an incarnation to its supervisor. */
export interface IncarnationHooks {
  onReady(): void;
  onLinkError(err: unknown): void;
  onExit(code: number): void;
}

/**
 * Creates fresh rings and the link for `generation`, then spawns the thread. Throws if
 * the thread cannot be spawned (after closing the link). The Worker's 'error' event is
 * always handled: it records `failure`; 'exit' follows and drives recovery.
 */
export function spawnIncarnation<P extends WorkerProtocol>(
  opts: WorkerSupervisorOptions<P>,
  generation: number,
  heartbeatIntervalMs: number,
  hooks: IncarnationHooks,
  onThrow: (message: string) => void,
): Incarnation<P> {
  const data = createWorkerLinkData(opts.name, generation, opts.ringBytes ?? 1 << 20, heartbeatIntervalMs, opts.workerData);
  const link = new Link<P["main"], P["worker"]>({
    name: `worker "${opts.name}"`,
    inbound: data.toMain,
    outbound: data.toWorker,
    handlers: opts.handlers,
    writeMode: "overflow",
    overflow: opts.overflow,
    requestTimeoutMs: opts.requestTimeoutMs,
    onControl: (frame) => {
      if (frame.type === "ready" && frame.generation === generation) hooks.onReady();
    },
    onError: (err) => hooks.onLinkError(err),
  });
  void link.start().catch((err: unknown) => hooks.onLinkError(err));
  let worker: Worker;
  try {
    worker = spawnWorkerThread(opts.entry, { ...opts.workerOptions, workerData: data }, opts.nice);
  } catch (err) {
    link.close();
    throw err;
  }
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  const inc: Incarnation<P> = { generation, worker, link, data, exited, readyAt: null, failure: null, killed: false };
  worker.on("error", (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    inc.failure ??= `${e.name}: ${e.message}`;
    onThrow(`${e.name}: ${e.message}`);
  });
  worker.on("messageerror", () => {});
  worker.once("exit", (code: number) => hooks.onExit(code));
  return inc;
}

/**
 * After the thread has exited: close both rings (waking anyone asleep on them), deliver
 * what the worker already published (answers sent before dying still resolve), then
 * fail whatever is still in flight with `reason`. Returns how many records queued for
 * the dead worker were discarded (requests among them fail with `reason`; the count is
 * for the log, so nothing disappears silently).
 */
export function retireIncarnation<P extends WorkerProtocol>(inc: Incarnation<P>, reason: GatewayError): { drained: number; discarded: number } {
  closeRing(inc.data.toWorker);
  closeRing(inc.data.toMain);
  const drained = inc.link.drainInbound();
  const discarded = inc.link.close(reason);
  return { drained, discarded };
}
