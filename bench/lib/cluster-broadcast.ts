/**
 * bench/cluster.ts section "broadcast": a broadcast reaching N device-signed nodes spread
 * evenly over the cluster's gateways vs the same N on one plain gateway (the baseline,
 * started beside the idle cluster and stopped before the cluster is measured). The fleet
 * runs in its own processes (bench/fanout/, shared with bench/fanout.ts).
 *
 * The broadcast is `tick`: nodes only get `all`-audience events, and each gateway ticks
 * its own nodes every `tickIntervalMs`, so per-node latency is tick `ts` → receipt and
 * "reach all" is, per gateway, the time until its last node had a tick. Also counted: the
 * presence messages each cluster gateway published while its nodes connected (deltas
 * are batched, so far fewer than handshakes).
 *
 * One measurement per target: a 15,000-node fleet takes the whole machine for a minute.
 */
import type { SpawnedGateway } from "./children.js";
import { sleep } from "./children.js";
import type { BenchCluster } from "./cluster-harness.js";
import { parseWsUrl } from "./raw-ws.js";
import { fmt } from "./stats.js";
import { FleetControl } from "../fanout/fleet-control.js";
import { pcts, tickReach, type Pcts } from "../fanout/measures.js";

export interface BroadcastOptions {
  /** Nodes in total per target. */
  nodes: number;
  /** Seconds of ticks recorded per target. */
  idleS: number;
  /** Nodes per fleet process. */
  perProc: number;
}

/** One target's figures. */
export interface BroadcastTarget {
  target: string;
  gateways: number;
  nodes: number;
  connectS: number;
  handshakeFailures: number;
  perNodeMs: Pcts;
  reachAllMs: Pcts;
  /** Ticks seen by every node of their gateway (the reach-all samples). */
  ticks: number;
  /** Presence messages each gateway published while its nodes connected (cluster only). */
  presenceMessagesOut?: number[];
}

export interface BroadcastResult {
  options: BroadcastOptions;
  tickIntervalMs: number;
  single: BroadcastTarget;
  cluster: BroadcastTarget;
  header: string[];
  rows: string[][];
}

async function presenceOut(gw: SpawnedGateway): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.port}/metrics`, { headers: { authorization: `Bearer ${gw.token}` } });
  const m = /^clawgate_cluster_messages_total\{direction="out",kind="presence"\} (\S+)$/m.exec(await res.text());
  return m ? Number(m[1]) : Number.NaN;
}

/** `o.nodes` split evenly over `gws`, one fleet (own processes) per gateway. */
async function measure(target: string, gws: SpawnedGateway[], inCluster: boolean, o: BroadcastOptions, log: (line: string) => void): Promise<BroadcastTarget> {
  const per = Math.floor(o.nodes / gws.length);
  const fleets: FleetControl[] = [];
  try {
    for (const gw of gws) {
      const t = parseWsUrl(gw.url);
      fleets.push(
        await FleetControl.start({
          count: per,
          procs: Math.ceil(per / o.perProc),
          ipsPerProc: 16,
          host: t.host,
          port: t.port,
          path: t.path,
          hostHeader: t.hostHeader,
          token: gw.token,
          perIpInFlight: 48,
          platform: "linux",
          commands: ["system.run"],
          handshakeTimeoutMs: 120_000,
        }),
      );
    }
    const before = inCluster ? await Promise.all(gws.map(presenceOut)) : [];
    const t0 = Date.now();
    const connected = await Promise.all(fleets.map((f) => f.all(() => ({ type: "connect" }), "connected")));
    const connectS = (Math.max(...connected.flat().map((c) => c.doneAt)) - t0) / 1000;
    const handshakeFailures = connected.flat().reduce((a, c) => a + c.failures, 0);
    // Lets the handshakes' presence deltas and directory writes drain before ticks count.
    await sleep(2000);
    const after = inCluster ? await Promise.all(gws.map(presenceOut)) : [];
    log(`[${target}] ${per * gws.length} nodes connected in ${fmt(connectS, 1)} s (${handshakeFailures} failures); recording ticks for ${o.idleS} s`);
    for (const f of fleets) f.tell({ type: "ticks-start" });
    await sleep(o.idleS * 1000);
    const ticks = await Promise.all(fleets.map((f) => f.all(() => ({ type: "ticks-stop" }), "ticks")));
    const latencies = ticks.flat().flatMap((m) => m.latencies);
    const reach = ticks.flatMap((perGw) => tickReach(perGw.flatMap((m) => m.spans), per).reachAllMs);
    const r: BroadcastTarget = { target, gateways: gws.length, nodes: per * gws.length, connectS, handshakeFailures, perNodeMs: pcts(latencies), reachAllMs: pcts(reach), ticks: reach.length };
    if (inCluster) r.presenceMessagesOut = after.map((v, i) => v - (before[i] as number));
    return r;
  } finally {
    for (const f of fleets) f.exit();
  }
}

/** Runs the section: the plain-gateway baseline first, then the cluster. */
export async function benchBroadcast(cluster: BenchCluster, o: BroadcastOptions, log: (line: string) => void): Promise<BroadcastResult> {
  const plain = await cluster.startPlainGateway();
  let single: BroadcastTarget;
  try {
    single = await measure("1 gateway", [plain], false, o, log);
  } finally {
    await cluster.stopPlainGateway(plain);
  }
  const n = cluster.gateways.length;
  const spreadOver = await measure(`${n} cluster gateways`, cluster.gateways, true, o, log);
  const header = ["tick broadcast", "nodes", "connect s", "per-node p50 / p99 ms", "reach-all p50 / p99 ms", "ticks", "presence msgs out per gw"];
  const row = (r: BroadcastTarget): string[] => [
    r.target,
    fmt(r.nodes),
    fmt(r.connectS, 1),
    `${fmt(r.perNodeMs.p50, 1)} / ${fmt(r.perNodeMs.p99, 1)}`,
    `${fmt(r.reachAllMs.p50, 1)} / ${fmt(r.reachAllMs.p99, 1)}`,
    String(r.ticks),
    r.presenceMessagesOut ? r.presenceMessagesOut.join(", ") : "-",
  ];
  return { options: o, tickIntervalMs: cluster.tickIntervalMs, single, cluster: spreadOver, header, rows: [row(single), row(spreadOver)] };
}
