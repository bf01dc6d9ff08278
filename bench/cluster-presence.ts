/**
 * Cluster presence and events across gateways on one NATS broker.
 *
 *   node --import tsx bench/cluster-presence.ts [--quick] [--nodes 15000] [--rounds 30] [--events 200]
 *
 * 1. Presence convergence: three cluster gateways with an operator on each; a client
 *    connects to one of them (round robin) and the time until the `presence` event listing
 *    it reaches the operators of the two others is recorded (p50/p99/max over the rounds).
 * 2. Event relay: `node.pair.request` on gw-a, `node.pair.requested` received by operators
 *    on gw-a (local), gw-b and gw-c (through the broker): remote minus local receipt.
 * 3. Broadcast to N nodes: N device-signed nodes on one plain gateway vs N/3 on each of
 *    three cluster gateways (the fleet in its own processes, bench/fanout/); the broadcast
 *    nodes receive is `tick` (nodes only get `all`-audience events; each gateway ticks its
 *    own nodes), per-node latency tick ts → receipt, p50/p99, and the time until the last
 *    node of a gateway had it. Also the presence messages each cluster gateway published
 *    while its nodes connected (deltas are batched: far fewer than handshakes).
 * Results: a table on stdout, JSON in bench/results/cluster-presence.json.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { intArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, killAll, sleep, type SpawnedGateway } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { fmt, formatTable } from "./lib/stats.js";
import { parseWsUrl } from "./lib/raw-ws.js";
import { FleetControl } from "./fanout/fleet-control.js";
import { pcts, tickReach, type Pcts } from "./fanout/measures.js";
import { connectOk, type TestClient } from "../test/helpers/client.js";
import { disposeAll, startBenchGateway, startBroker } from "./cluster-presence/cluster-setup.js";

const HELP = `bench/cluster-presence.ts — presence and events across three gateways on NATS

  --quick          smoke run: 1,500 nodes, 10 rounds, 50 events, 5 s idle → bench/results/cluster-presence.quick.json
  --nodes N        nodes in the broadcast comparison (default 15000)
  --rounds R       presence convergence rounds (default 30)
  --events E       relayed pairing events (default 200)
  --idle S         seconds of ticks recorded per configuration (default 20)
  --per-proc N     nodes per fleet process (default 4000)
  --out FILE       JSON output
`;

const TOKEN = "bench-token-0123456789abcdef";
const TICK_MS = 1000;
const args = parseArgs(process.argv.slice(2));
if (args.switches.has("help")) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = args.switches.has("quick");
const nodes = intArg(args, "nodes", quick ? 1500 : 15_000);
const rounds = intArg(args, "rounds", quick ? 10 : 30);
const events = intArg(args, "events", quick ? 50 : 200);
const idleS = intArg(args, "idle", quick ? 5 : 20);
const perProc = Math.max(1, intArg(args, "per-proc", 4000));
const outFile = args.values.get("out") ?? join(REPO_ROOT, "bench", "results", quick ? "cluster-presence.quick.json" : "cluster-presence.json");

interface FanoutResult {
  target: string;
  gateways: number;
  nodes: number;
  connectS: number;
  perNodeMs: Pcts;
  reachAllMs: Pcts;
  ticks: number;
  /** Presence messages each gateway published while its nodes connected (cluster only). */
  presenceMessagesOut?: number[];
}

async function operator(url: string): Promise<TestClient> {
  const { client } = await connectOk(url, { token: TOKEN, scopes: ["operator.admin"], client: { id: "test", mode: "test" } });
  return client;
}

function listsInstance(f: { type: string; event?: string; payload?: unknown }, instanceId: string): boolean {
  if (f.type !== "event" || f.event !== "presence") return false;
  const list = (f.payload as { presence?: { instanceId?: string }[] }).presence ?? [];
  return list.some((e) => e.instanceId === instanceId);
}

async function presenceConvergence(gws: SpawnedGateway[], ops: TestClient[]): Promise<Pcts> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const origin = r % gws.length;
    const instanceId = `conv-${randomUUID()}`;
    const others = ops.filter((_, i) => i !== origin);
    const from = others.map((o) => o.frames.length);
    const t0 = performance.now();
    const { client } = await connectOk(gws[origin]!.url, { token: TOKEN, client: { id: "test", mode: "test", instanceId } });
    await Promise.all(others.map((o, i) => o.next((f) => listsInstance(f, instanceId), 10_000, from[i]).then(() => samples.push(performance.now() - t0))));
    client.close();
    // Past the presence broadcast window, so the next round starts from a quiet view.
    await sleep(250);
  }
  return pcts(samples);
}

async function eventRelay(ops: TestClient[]): Promise<{ localMs: Pcts; remoteMs: Pcts }> {
  const local: number[] = [];
  const remote: number[] = [];
  const [a] = ops as [TestClient];
  for (let i = 0; i < events; i++) {
    const nodeId = `bench-${randomUUID()}`;
    const match = (f: { event?: string; payload?: unknown }): boolean => f.event === "node.pair.requested" && (f.payload as { nodeId?: string }).nodeId === nodeId;
    const from = ops.map((o) => o.frames.length);
    const t0 = performance.now();
    const arrivals = ops.map((o, k) => o.next(match, 10_000, from[k]).then(() => performance.now()));
    const res = await a.request("node.pair.request", { nodeId });
    if (!res.ok) throw new Error(`node.pair.request failed: ${JSON.stringify(res.error)}`);
    const [atA, ...atOthers] = await Promise.all(arrivals);
    local.push((atA as number) - t0);
    for (const t of atOthers) remote.push(t - (atA as number));
  }
  return { localMs: pcts(local), remoteMs: pcts(remote) };
}

async function presenceOut(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const m = /^clawgate_cluster_messages_total\{direction="out",kind="presence"\} (\S+)$/m.exec(await res.text());
  return m ? Number(m[1]) : Number.NaN;
}

/** `count` nodes split evenly over `gws`, one fleet (own processes) per gateway. */
async function fanout(target: string, gws: SpawnedGateway[], cluster: boolean): Promise<FanoutResult> {
  const per = Math.floor(nodes / gws.length);
  const fleets: FleetControl[] = [];
  try {
    for (const gw of gws) {
      const t = parseWsUrl(gw.url);
      fleets.push(
        await FleetControl.start({
          count: per,
          procs: Math.ceil(per / perProc),
          ipsPerProc: 16,
          host: t.host,
          port: t.port,
          path: t.path,
          hostHeader: t.hostHeader,
          token: TOKEN,
          perIpInFlight: 48,
          platform: "linux",
          commands: ["system.run"],
          handshakeTimeoutMs: 120_000,
        }),
      );
    }
    const before = cluster ? await Promise.all(gws.map((g) => presenceOut(g.port))) : [];
    const t0 = Date.now();
    const connected = await Promise.all(fleets.map((f) => f.all(() => ({ type: "connect" }), "connected")));
    const connectS = (Math.max(...connected.flat().map((c) => c.doneAt)) - t0) / 1000;
    const failures = connected.flat().reduce((a, c) => a + c.failures, 0);
    if (failures > 0) process.stdout.write(`[${target}] ${failures} handshake failures\n`);
    await sleep(2000);
    const after = cluster ? await Promise.all(gws.map((g) => presenceOut(g.port))) : [];
    process.stdout.write(`[${target}] ${per * gws.length} nodes connected in ${fmt(connectS, 1)} s; recording ticks for ${idleS} s\n`);
    for (const f of fleets) f.tell({ type: "ticks-start" });
    await sleep(idleS * 1000);
    const ticks = await Promise.all(fleets.map((f) => f.all(() => ({ type: "ticks-stop" }), "ticks")));
    const latencies = ticks.flat().flatMap((m) => m.latencies);
    // Each gateway ticks its own nodes: "reached all" is per gateway.
    const reach = ticks.flatMap((perGw) => tickReach(perGw.flatMap((m) => m.spans), per).reachAllMs);
    const r: FanoutResult = { target, gateways: gws.length, nodes: per * gws.length, connectS, perNodeMs: pcts(latencies), reachAllMs: pcts(reach), ticks: reach.length };
    if (cluster) r.presenceMessagesOut = after.map((v, i) => v - (before[i] as number));
    return r;
  } finally {
    for (const f of fleets) f.exit();
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  process.stdout.write(`${machineHeader(machine)}\n`);
  const nats = await startBroker();
  const ids = ["gw-a", "gw-b", "gw-c"];
  const gws = await Promise.all(ids.map((gatewayId) => startBenchGateway({ token: TOKEN, tickIntervalMs: TICK_MS, cluster: { natsUrl: nats.url, gatewayId } })));
  const ops = await Promise.all(gws.map((g) => operator(g.url)));
  // Every gateway hears the two others before measuring.
  const seesAll = (o: TestClient) => o.request("system-presence").then((r) => ids.every((id) => (r.payload as { instanceId?: string }[]).some((e) => e.instanceId === id)));
  for (const o of ops) for (let i = 0; !(await seesAll(o)); i++) if (i > 300) throw new Error("cluster did not converge"); else await sleep(50);

  const convergence = await presenceConvergence(gws, ops);
  process.stdout.write(`presence convergence over ${convergence.n} samples: p50 ${fmt(convergence.p50, 1)} ms, p99 ${fmt(convergence.p99, 1)} ms\n`);
  const relay = await eventRelay(ops);
  process.stdout.write(`event relay over ${relay.remoteMs.n} receipts: p50 ${fmt(relay.remoteMs.p50, 2)} ms, p99 ${fmt(relay.remoteMs.p99, 2)} ms after the local one\n`);
  for (const o of ops) o.close();

  const results: FanoutResult[] = [];
  results.push(await fanout(`3 cluster gateways`, gws, true));
  await disposeAll();
  const single = await startBenchGateway({ token: TOKEN, tickIntervalMs: TICK_MS });
  results.push(await fanout("1 gateway", [single], false));
  await disposeAll();

  process.stdout.write(
    `\n${formatTable(
      ["measure", "p50 ms", "p99 ms", "max ms", "samples"],
      [
        ["presence convergence (connect → presence event on the 2 others)", fmt(convergence.p50, 1), fmt(convergence.p99, 1), fmt(convergence.max, 1), String(convergence.n)],
        ["pairing event: remote receipt − local receipt", fmt(relay.remoteMs.p50, 2), fmt(relay.remoteMs.p99, 2), fmt(relay.remoteMs.max, 2), String(relay.remoteMs.n)],
        ["pairing event: request → local receipt", fmt(relay.localMs.p50, 2), fmt(relay.localMs.p99, 2), fmt(relay.localMs.max, 2), String(relay.localMs.n)],
      ],
    )}\n\n${formatTable(
      ["target", "nodes", "connect s", "tick per-node ms p50/p99", "reach-all ms p50/p99", "ticks", "presence msgs out per gw"],
      results.map((r) => [
        r.target,
        fmt(r.nodes),
        fmt(r.connectS, 1),
        `${fmt(r.perNodeMs.p50, 1)} / ${fmt(r.perNodeMs.p99, 1)}`,
        `${fmt(r.reachAllMs.p50, 1)} / ${fmt(r.reachAllMs.p99, 1)}`,
        String(r.ticks),
        r.presenceMessagesOut ? r.presenceMessagesOut.join(", ") : "-",
      ]),
    )}\n`,
  );
  await mkdir(join(REPO_ROOT, "bench", "results"), { recursive: true });
  const json = { bench: "cluster-presence", date: new Date().toISOString(), machine, options: { nodes, rounds, events, idleS, perProc, quick, tickMs: TICK_MS }, convergence, relay, fanout: results };
  await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nwrote ${outFile}\n`);
}

main()
  .then(() => disposeAll())
  .then(() => killAll())
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`cluster-presence failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await disposeAll();
    await killAll();
    process.exit(1);
  });
