/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * file, so a bench can print where the server's CPU went without opening DevTools.
 *
 * Sample timestamps are V8 TimeTicks, i.e. CLOCK_MONOTONIC in microseconds on Linux: the
 * same clock as `process.hrtime` in any other process. A bench can therefore note its
 * measured windows with `monotonicMicros()` and keep only the samples inside them
 * (startup, warm-up and the other scenarios drop out).
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples that were `(idle)`. */
  idlePct: number;
  functions: ProfileRow[];
  files: ProfileRow[];
}

function shortUrl(url: string, root: string): string {
  if (!url) return "(native)";
  const p = url.startsWith("file://") ? new URL(url).pathname : url;
  const r = relative(root, p);
  return r.startsWith("..") ? p : r;
}

/** A time window in CLOCK_MONOTONIC microseconds. */
export interface TimeWindow {
  startUs: number;
  endUs: number;
}

/** Now, in the clock of `.cpuprofile` timestamps. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Reads a profile once (they are large; summarise many windows from one read). */
export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
}

/**
 * Self time by function (`name file:line`) and by file, top `limit` of each; only samples
 * inside `windows` when given.
 */
export function summariseCpuProfile(prof: CpuProfile, root: string, limit = 15, windows?: readonly TimeWindow[]): ProfileSummary {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = prof.startTime;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (windows && !windows.some((w) => t >= w.startUs && t < w.endUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const cf = n.callFrame;
    if (cf.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const f = shortUrl(cf.url, root);
    const key = `${cf.functionName || "(anonymous)"} ${f}${cf.url ? `:${cf.lineNumber + 1}` : ""}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const busy = total - idle || 1;
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, selfMs: us / 1000, pct: (100 * us) / busy }));
  return { totalMs: total / 1000, idlePct: (100 * idle) / (total || 1), functions: rows(fn), files: rows(file) };
}

/** The main thread's `.cpuprofile` of process `pid` in `dir` (worker threads write `.<pid>.<n>.` with n > 0). */
export async function mainThreadProfile(dir: string, pid: number): Promise<string | undefined> {
  try {
    const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.0.`)).sort();
    const f = files[files.length - 1];
    return f === undefined ? undefined : join(dir, f);
  } catch {
    return undefined;
  }
}
