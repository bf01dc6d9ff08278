/**
 * Linux nice value of the calling thread. NPTL threads have their own nice value:
 * `setpriority(PRIO_PROCESS, tid)` on the thread's id (from /proc/thread-self/stat) changes
 * that thread only, and threads it starts later inherit it. Lowering a priority needs no
 * privilege; this never raises one. A no-op elsewhere than Linux, and best effort there
 * (a sandbox may refuse): returns whether the thread now runs at `nice` or lower.
 */
import { readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** Lowers the calling thread's CPU priority to `nice` (never raises it). */
export function lowerThreadPriority(nice: number): boolean {
  if (process.platform !== "linux" || !Number.isInteger(nice)) return false;
  try {
    const tid = Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]);
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid) >= nice;
  } catch {
    return false;
  }
}
