/**
 * bench/cluster.ts section "node.invoke": latency of `node.invoke` from an operator on
 * gw-a to a node on gw-a (local) and to a node on gw-b (across gateways: gw-a → broker →
 * gw-b → node → gw-b → broker → gw-a), and the gateways' CPU per invoke.
 *
 *   latency: one invoke at a time (p50/p99 over every invoke of a run)
 *   CPU:     `--concurrency` invokes in flight; utime+stime of each gateway process
 *            (/proc/<pid>/stat) over the phase, divided by the invokes
 *
 * The nodes are `ws` clients in the bench process that answer at once; their CPU is not
 * counted. Local and remote alternate within each run so machine noise hits both alike.
 */
import { performance } from "node:perf_hooks";
import { connectOk, type TestClient } from "../../test/helpers/client.js";
import { answerInvokes } from "../../test/helpers/cluster-nodes.js";
import { connectNode, type TestNode } from "../../test/helpers/node.js";
import type { BenchCluster } from "./cluster-harness.js";
import { monotonicMicros, type TimeWindow } from "./cpu-profile.js";
import { processCpuSeconds } from "./proc-stat.js";
import { fmtSpread, spread, type Spread } from "./stats.js";

export interface NodeInvokeOptions {
  runs: number;
  /** Sequential invokes per run and target (latency). */
  sequential: number;
  /** Invokes per run and target in the CPU phase. */
  burst: number;
  concurrency: number;
}

interface RunSample {
  p50Ms: number;
  p99Ms: number;
  perSec: number;
  /** CPU µs per invoke of gw-a, gw-b, and both. */
  cpuA: number;
  cpuB: number;
  cpuTotal: number;
  /** The CPU phase, in the clock of `--cpu-prof` samples. */
  window: TimeWindow;
}

/** One target's figures over all runs. */
export interface NodeInvokeFigures {
  p50Ms: Spread;
  p99Ms: Spread;
  perSec: Spread;
  cpuUsA: Spread;
  cpuUsB: Spread;
  cpuUsTotal: Spread;
}

export interface NodeInvokeResult {
  options: NodeInvokeOptions;
  local: NodeInvokeFigures;
  remote: NodeInvokeFigures;
  rows: string[][];
  header: string[];
  /** CPU phases per target (for `--cpu-prof` summaries). */
  windows: { local: TimeWindow[]; remote: TimeWindow[] };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

let seq = 0;
function invoke(op: TestClient, nodeId: string): Promise<void> {
  return op.request("node.invoke", { nodeId, command: "system.run", params: { n: seq }, idempotencyKey: `b-${seq++}` }, 30_000).then((res) => {
    if (!res.ok) throw new Error(`node.invoke failed: ${JSON.stringify(res.error)}`);
  });
}

async function runOnce(cluster: BenchCluster, op: TestClient, nodeId: string, o: NodeInvokeOptions): Promise<RunSample> {
  const lat: number[] = [];
  for (let i = 0; i < o.sequential; i++) {
    const t0 = performance.now();
    await invoke(op, nodeId);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  const [a, b] = cluster.gateways as [BenchCluster["gateways"][number], BenchCluster["gateways"][number]];
  const cpu0 = [processCpuSeconds(a.pid) ?? Number.NaN, processCpuSeconds(b.pid) ?? Number.NaN];
  const t0 = performance.now();
  const startUs = monotonicMicros();
  let next = 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.burst) {
        next++;
        await invoke(op, nodeId);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const window = { startUs, endUs: monotonicMicros() };
  const cpu1 = [processCpuSeconds(a.pid) ?? Number.NaN, processCpuSeconds(b.pid) ?? Number.NaN];
  const us = (i: number): number => (((cpu1[i] as number) - (cpu0[i] as number)) * 1e6) / o.burst;
  return { p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), perSec: o.burst / secs, cpuA: us(0), cpuB: us(1), cpuTotal: us(0) + us(1), window };
}

type Figure = Exclude<keyof RunSample, "window">;

function figures(samples: RunSample[]): NodeInvokeFigures {
  const s = (k: Figure): Spread => spread(samples.map((x) => x[k]));
  return { p50Ms: s("p50Ms"), p99Ms: s("p99Ms"), perSec: s("perSec"), cpuUsA: s("cpuA"), cpuUsB: s("cpuB"), cpuUsTotal: s("cpuTotal") };
}

/** Runs the section on a cluster of at least two gateways. */
export async function benchNodeInvoke(cluster: BenchCluster, o: NodeInvokeOptions, log: (line: string) => void): Promise<NodeInvokeResult> {
  const [gwA, gwB] = cluster.gateways as [BenchCluster["gateways"][number], BenchCluster["gateways"][number]];
  const nodes: TestNode[] = [];
  for (const gw of [gwA, gwB]) {
    const node = await connectNode(gw.url, { token: gw.token, platform: "darwin", commands: ["system.run"] });
    answerInvokes(node, gw.id, () => ({ ok: true, payloadJSON: '{"ok":1}' }));
    nodes.push(node);
  }
  const { client: op } = await connectOk(gwA.url, { token: gwA.token });
  const [local, remote] = nodes as [TestNode, TestNode];
  // The remote node is routable once gw-a's directory mirror has it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await op.request("node.invoke", { nodeId: remote.nodeId, command: "system.run", idempotencyKey: "warm" });
    if (res.ok) break;
    if (Date.now() > deadline) throw new Error(`remote node never became routable: ${JSON.stringify(res.error)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const warm = Math.min(200, o.sequential);
  for (let i = 0; i < warm; i++) {
    await invoke(op, local.nodeId);
    await invoke(op, remote.nodeId);
  }
  const ls: RunSample[] = [];
  const rs: RunSample[] = [];
  for (let r = 0; r < o.runs; r++) {
    ls.push(await runOnce(cluster, op, local.nodeId, o));
    rs.push(await runOnce(cluster, op, remote.nodeId, o));
    const l = ls[ls.length - 1] as RunSample;
    const m = rs[rs.length - 1] as RunSample;
    log(`run ${r + 1}/${o.runs}: local p50 ${l.p50Ms.toFixed(2)} ms, ${l.cpuTotal.toFixed(0)} µs CPU · remote p50 ${m.p50Ms.toFixed(2)} ms, ${m.cpuTotal.toFixed(0)} µs CPU`);
  }
  op.close();
  for (const n of nodes) n.client.close();
  const lf = figures(ls);
  const rf = figures(rs);
  const header = ["node.invoke from gw-a", "p50 ms", "p99 ms", "invokes/s", "gw-a CPU µs/inv", "gw-b CPU µs/inv", "gateways µs/inv"];
  const row = (name: string, f: NodeInvokeFigures): string[] => [name, fmtSpread(f.p50Ms, 2), fmtSpread(f.p99Ms, 2), fmtSpread(f.perSec), fmtSpread(f.cpuUsA), fmtSpread(f.cpuUsB), fmtSpread(f.cpuUsTotal)];
  return { options: o, local: lf, remote: rf, header, rows: [row("local node (on gw-a)", lf), row("remote node (on gw-b)", rf)], windows: { local: ls.map((x) => x.window), remote: rs.map((x) => x.window) } };
}
