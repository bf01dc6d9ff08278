/**
 * bench/cluster.ts section "event-relay": an operator-audience event raised on gw-a
 * reaching operators on the other gateways through the broker (module `cluster-events`).
 * The event is `node.pair.requested`, raised by `node.pair.request` on gw-a; an operator
 * (`operator.admin`) on every gateway waits for it.
 *
 *   local:   request sent → receipt by the operator on gw-a (the single-gateway baseline)
 *   remote:  request sent → receipt by an operator on another gateway
 *   relay:   receipt on another gateway − receipt on gw-a, per event (what the cluster adds)
 *
 * All receipts are timed in this one process, so two frames handled in the same event-loop
 * turn are ordered arbitrarily: a relay below ~0.1 ms, negative included, reads as "no
 * measurable delay".
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Frame, TestClient } from "../../test/helpers/client.js";
import { pcts, type Pcts } from "../fanout/measures.js";
import type { BenchCluster } from "./cluster-harness.js";
import { fmtSpread, spread, type Spread } from "./stats.js";

export interface EventRelayOptions {
  runs: number;
  /** Pairing requests per run, one at a time. */
  events: number;
}

/** Per-run p50 / p99, median (min–max) over the runs, and every sample pooled. */
export interface EventRelayFigures {
  p50Ms: Spread;
  p99Ms: Spread;
  pooled: Pcts;
}

export interface EventRelayResult {
  options: EventRelayOptions;
  local: EventRelayFigures;
  remote: EventRelayFigures;
  relay: EventRelayFigures;
  header: string[];
  rows: string[][];
}

async function runOnce(ops: TestClient[], events: number): Promise<{ local: number[]; remote: number[]; relay: number[] }> {
  const local: number[] = [];
  const remote: number[] = [];
  const relay: number[] = [];
  const a = ops[0] as TestClient;
  for (let i = 0; i < events; i++) {
    const nodeId = `bench-${randomUUID()}`;
    const match = (f: Frame): boolean => f.event === "node.pair.requested" && (f.payload as { nodeId?: string } | undefined)?.nodeId === nodeId;
    const from = ops.map((o) => o.frames.length);
    const t0 = performance.now();
    const arrivals = ops.map((o, k) => o.next(match, 10_000, from[k]).then(() => performance.now()));
    const res = await a.request("node.pair.request", { nodeId });
    if (!res.ok) throw new Error(`node.pair.request failed: ${JSON.stringify(res.error)}`);
    const [atA, ...atOthers] = (await Promise.all(arrivals)) as [number, ...number[]];
    local.push(atA - t0);
    for (const t of atOthers) {
      remote.push(t - t0);
      relay.push(t - atA);
    }
  }
  return { local, remote, relay };
}

function figures(perRun: number[][]): EventRelayFigures {
  const p = perRun.map((s) => pcts(s));
  return { p50Ms: spread(p.map((x) => x.p50)), p99Ms: spread(p.map((x) => x.p99)), pooled: pcts(perRun.flat()) };
}

/** Runs the section on a cluster of at least two gateways. */
export async function benchEventRelay(cluster: BenchCluster, o: EventRelayOptions, log: (line: string) => void): Promise<EventRelayResult> {
  const ops = await Promise.all(cluster.gateways.map((g) => cluster.operator(g)));
  const local: number[][] = [];
  const remote: number[][] = [];
  const relay: number[][] = [];
  try {
    // Unrecorded warm-up: fresh gateway processes run the first requests cold (JIT, lazy
    // modules), which showed as a 90 ms p99 in the first run only.
    await runOnce(ops, Math.min(10, o.events));
    for (let r = 0; r < o.runs; r++) {
      const s = await runOnce(ops, o.events);
      local.push(s.local);
      remote.push(s.remote);
      relay.push(s.relay);
      const l = pcts(s.local);
      const m = pcts(s.relay);
      log(`run ${r + 1}/${o.runs}: local p50 ${l.p50.toFixed(2)} ms · relay p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms over ${m.n} receipts`);
    }
  } finally {
    for (const op of ops) op.close();
  }
  const lf = figures(local);
  const mf = figures(remote);
  const rf = figures(relay);
  const others = cluster.gateways.length - 1;
  const header = ["node.pair.requested raised on gw-a", "p50 ms", "p99 ms", "receipts/run"];
  const rows = [
    ["request → receipt on gw-a (local)", fmtSpread(lf.p50Ms, 2), fmtSpread(lf.p99Ms, 2), String(o.events)],
    ["request → receipt on another gateway", fmtSpread(mf.p50Ms, 2), fmtSpread(mf.p99Ms, 2), String(o.events * others)],
    ["receipt on another gateway − receipt on gw-a", fmtSpread(rf.p50Ms, 2), fmtSpread(rf.p99Ms, 2), String(o.events * others)],
  ];
  return { options: o, local: lf, remote: mf, relay: rf, header, rows };
}
