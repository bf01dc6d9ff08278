/**
 * Starts a worker thread from a module URL.
 *
 * Compiled builds spawn the `.js` file directly. Under tsx (tests, `npx tsx bench/...`)
 * the entry is a `.ts` file, and Node 20 workers do not run the parent's
 * `--import tsx` (execArgv loaders are ignored for workers), so the worker is started
 * from a tiny eval'd script that registers tsx's ESM hooks inside the worker first and
 * only then imports the entry. A failure of either import rejects inside the worker,
 * which surfaces as the Worker's 'error' event (handled by the supervisor).
 *
 * `nice` (Linux): the bootstrap lowers the new thread's CPU priority before the entry's
 * module graph is loaded, so compiling and evaluating it (grammY, Baileys) already runs at
 * that priority, and threads the worker starts later inherit it. `setpriority(PRIO_PROCESS,
 * tid)` applies to that one thread (NPTL threads have their own nice value); lowering needs
 * no privilege; it never raises a priority. Elsewhere it is a no-op.
 */
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { WorkerOptions } from "node:worker_threads";

const TS_ENTRY = /\.(?:ts|mts|cts)$/;

/** Turns a path or URL string into a file URL. */
export function toModuleUrl(entry: URL | string): URL {
  if (entry instanceof URL) return entry;
  return /^[a-z][a-z0-9+.-]*:/i.test(entry) && !/^[a-z]:[\\/]/i.test(entry) ? new URL(entry) : pathToFileURL(entry);
}

/** Bootstrap statement that lowers the calling thread's priority to `nice` (best effort). */
function lowerPriorityStatement(nice: number): string {
  if (process.platform !== "linux") return "";
  return (
    `try { const tid = Number(require("node:fs").readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]);` +
    ` const os = require("node:os"); if (os.getPriority(tid) < ${nice}) os.setPriority(tid, ${nice}); } catch {}\n`
  );
}

/**
 * Spawns `entry` (a module URL or path) as a worker thread with `options`
 * (`workerData`, `resourceLimits`, `env`, ...). `.ts` entries go through tsx. `nice`: the
 * thread's Linux nice value, set before the entry loads (default: inherited).
 */
export function spawnWorkerThread(entry: URL | string, options: WorkerOptions = {}, nice?: number): Worker {
  const url = toModuleUrl(entry);
  const ts = TS_ENTRY.test(url.pathname);
  if (!ts && nice === undefined) return new Worker(url, options);
  const load = ts
    ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`
    : `import(${JSON.stringify(url.href)})`;
  const code = (nice !== undefined && Number.isInteger(nice) ? lowerPriorityStatement(nice) : "") + load;
  return new Worker(code, { ...options, eval: true });
}
