/**
 * bench/cluster.ts section "presence": how long a connect on one gateway takes to show up
 * in the `presence` events of the others. An operator sits on every gateway; each round a
 * client connects to one gateway (round robin) and the time from its connect until the
 * `presence` event listing its instance reaches each other operator is one sample.
 *
 * What a sample covers: the handshake, the origin's delta window, one broker hop and the
 * receiver's presence broadcast window (docs/cluster.md, "Convergence"). Rounds are
 * spaced past the broadcast window so each starts from a quiet view.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { connectOk, type Frame, type TestClient } from "../../test/helpers/client.js";
import { pcts, type Pcts } from "../fanout/measures.js";
import { sleep } from "./children.js";
import type { BenchCluster } from "./cluster-harness.js";
import { fmtSpread, spread, type Spread } from "./stats.js";

export interface PresenceConvergenceOptions {
  runs: number;
  /** Connects per run (each gives one sample per other gateway). */
  rounds: number;
}

export interface PresenceConvergenceResult {
  options: PresenceConvergenceOptions;
  /** Per-run p50 / p99 / max, median (min–max) over the runs. */
  p50Ms: Spread;
  p99Ms: Spread;
  maxMs: Spread;
  /** Every sample of every run pooled. */
  pooled: Pcts;
  header: string[];
  rows: string[][];
}

function listsInstance(f: Frame, instanceId: string): boolean {
  if (f.type !== "event" || f.event !== "presence") return false;
  const list = ((f.payload as { presence?: { instanceId?: string }[] } | undefined)?.presence ?? []);
  return list.some((e) => e.instanceId === instanceId);
}

async function runOnce(cluster: BenchCluster, ops: TestClient[], rounds: number): Promise<number[]> {
  const samples: number[] = [];
  const gws = cluster.gateways;
  for (let r = 0; r < rounds; r++) {
    const origin = r % gws.length;
    const instanceId = `conv-${randomUUID()}`;
    const others = ops.filter((_, i) => i !== origin);
    const from = others.map((o) => o.frames.length);
    const t0 = performance.now();
    const { client } = await connectOk((gws[origin] as BenchCluster["gateways"][number]).url, { token: cluster.token, client: { id: "test", mode: "test", instanceId } });
    await Promise.all(others.map((o, i) => o.next((f) => listsInstance(f, instanceId), 10_000, from[i]).then(() => samples.push(performance.now() - t0))));
    client.close();
    await sleep(250);
  }
  return samples;
}

/** Runs the section on a cluster of at least two gateways. */
export async function benchPresenceConvergence(cluster: BenchCluster, o: PresenceConvergenceOptions, log: (line: string) => void): Promise<PresenceConvergenceResult> {
  const ops = await Promise.all(cluster.gateways.map((g) => cluster.operator(g)));
  const perRun: Pcts[] = [];
  const all: number[] = [];
  try {
    // One unrecorded connect per gateway: a fresh process runs its first handshakes and
    // presence merges cold (JIT, lazy modules), which showed as an 87 ms p99 in the
    // first run only.
    await runOnce(cluster, ops, cluster.gateways.length);
    for (let r = 0; r < o.runs; r++) {
      const samples = await runOnce(cluster, ops, o.rounds);
      const p = pcts(samples);
      perRun.push(p);
      all.push(...samples);
      log(`run ${r + 1}/${o.runs}: ${p.n} samples, p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms`);
    }
  } finally {
    for (const op of ops) op.close();
  }
  const p50Ms = spread(perRun.map((p) => p.p50));
  const p99Ms = spread(perRun.map((p) => p.p99));
  const maxMs = spread(perRun.map((p) => p.max));
  const others = cluster.gateways.length - 1;
  const header = ["presence convergence", "p50 ms", "p99 ms", "max ms", "samples/run"];
  const rows = [[`connect on one gateway → presence event on the ${others} others`, fmtSpread(p50Ms, 1), fmtSpread(p99Ms, 1), fmtSpread(maxMs, 1), String(o.rounds * others)]];
  return { options: o, p50Ms, p99Ms, maxMs, pooled: pcts(all), header, rows };
}
