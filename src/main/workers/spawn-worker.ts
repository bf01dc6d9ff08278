/**
 * Starts a worker thread from a module URL.
 *
 * Compiled builds spawn the `.js` file directly. Under tsx (tests, `npx tsx bench/...`)
 * the entry is a `.ts` file, and Node 20 workers do not run the parent's
 * `--import tsx` (execArgv loaders are ignored for workers), so the worker is started
 * from a tiny eval'd script that registers tsx's ESM hooks inside the worker first and
 * only then imports the entry. A failure of either import rejects inside the worker,
 * which surfaces as the Worker's 'error' event (handled by the supervisor).
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

/**
 * Spawns `entry` (a module URL or path) as a worker thread with `options`
 * (`workerData`, `resourceLimits`, `env`, ...). `.ts` entries go through tsx.
 */
export function spawnWorkerThread(entry: URL | string, options: WorkerOptions = {}): Worker {
  const url = toModuleUrl(entry);
  if (!TS_ENTRY.test(url.pathname)) return new Worker(url, options);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const code =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
