/**
 * Imported first by each channel worker entry, for its side effect: the worker thread (and
 * the threads it starts later, which inherit it) runs at a lower CPU priority than the
 * gateway's main thread (Linux nice +10).
 *
 * Why: on a small host a channel worker that burns CPU — a reconnect storm, a runaway loop
 * in an SDK, loading Baileys after a restart — competes with the control plane's thread for
 * the same cores. Isolation by threads keeps its crashes away from the main thread; only
 * scheduling priority keeps its CPU use away too. Under CFS a nice-10 thread gets ~10 % of a
 * contended core against a nice-0 one, and all of an idle one.
 *
 * Linux `setpriority(PRIO_PROCESS, tid)` applies to that one thread (NPTL threads have their
 * own nice value); lowering needs no privilege. Elsewhere this is a no-op.
 */
import { readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** Nice value of channel worker threads. */
export const CHANNEL_WORKER_NICE = 10;

/** Lowers the calling thread's priority to `nice` (never raises it). Returns false when not applied. */
export function lowerThreadPriority(nice: number = CHANNEL_WORKER_NICE): boolean {
  if (process.platform !== "linux") return false;
  try {
    const tid = Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]);
    if (!Number.isInteger(tid) || tid <= 0) return false;
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

lowerThreadPriority();
