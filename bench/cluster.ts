/**
 * Cluster bench: several gateways as one on a NATS JetStream broker (docs/cluster.md).
 * Starts one private nats-server and three gateway processes (bench/lib/cluster-harness.ts),
 * runs each section against them and prints one table per section; JSON goes to
 * bench/results/cluster[.quick].json with one key per section under `sections`.
 *
 *   node --import tsx bench/cluster.ts             # 5 runs per section, broadcast to 15,000 nodes
 *   node --import tsx bench/cluster.ts --quick     # 3 short runs, broadcast to 1,500 nodes
 *   node --import tsx bench/cluster.ts --only node-invoke,presence
 *   node --import tsx bench/cluster.ts --cpu-prof  # + top functions of each gateway per measured phase
 *
 * Sections, one file each in bench/lib/: `node-invoke` (cluster-node-invoke.ts),
 * `presence` (cluster-presence-convergence.ts), `event-relay` (cluster-event-relay.ts),
 * `pairing` (cluster-pairing.ts), `broadcast` (cluster-broadcast.ts). A section is a
 * function of the running cluster returning its table and JSON; add new ones to SECTIONS.
 */
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { guardProcess, killAll, REPO_ROOT } from "./lib/children.js";
import { startBenchCluster, type BenchCluster } from "./lib/cluster-harness.js";
import { readCpuProfile, summariseCpuProfile, type TimeWindow } from "./lib/cpu-profile.js";
import { benchBroadcast } from "./lib/cluster-broadcast.js";
import { benchEventRelay } from "./lib/cluster-event-relay.js";
import { benchNodeInvoke } from "./lib/cluster-node-invoke.js";
import { benchPairing } from "./lib/cluster-pairing.js";
import { benchPresenceConvergence } from "./lib/cluster-presence-convergence.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { formatTable } from "./lib/stats.js";

const HELP = `bench/cluster.ts — three gateways on one NATS broker, one section per concern

  --quick            short runs, broadcast to 1,500 nodes → bench/results/cluster.quick.json
  --only a,b         sections to run (default all): node-invoke, presence, event-relay, pairing, broadcast
  --runs N           runs per section (default 5, 3 with --quick; broadcast: one per target)
  --cpu-prof         print each cluster gateway's top functions per measured phase
  node-invoke:  --sequential N (1000; 300)  --burst N (2000; 500)  --concurrency N (16)
  presence:     --rounds N   connects per run (12; 6)
  event-relay:  --events N   pairing events per run (100; 30)
  pairing:      --pair-handshakes N  sequential per run (60; 20)  --pair-seconds S (5; 2)
                --pair-concurrency N (16)  --propagations N  pair+revoke rounds (50; 20)
  broadcast:    --nodes N    nodes per target (15000; 1500)  --idle S  seconds of ticks (20; 5)
                --per-proc N nodes per fleet process (4000)
Needs nats-server on the PATH.
`;

const args = parseArgs(process.argv.slice(2));
if (args.switches.has("help")) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = args.switches.has("quick");
const runs = intArg(args, "runs", quick ? 3 : 5);
const cpuProf = args.switches.has("cpu-prof");
const TOKEN = "cluster-bench-token-0123456789abcdef";

interface SectionOutput {
  header: string[];
  rows: string[][];
  json: unknown;
  /** Named measuring windows; with `--cpu-prof` each gateway's profile is summarised per window set. */
  windows?: Record<string, TimeWindow[]>;
}

interface Section {
  name: string;
  title: string;
  run(cluster: BenchCluster, log: (line: string) => void): Promise<SectionOutput>;
}

const SECTIONS: Section[] = [
  {
    name: "node-invoke",
    title: "node.invoke: local vs across gateways",
    async run(cluster, log) {
      const o = { runs, sequential: intArg(args, "sequential", quick ? 300 : 1000), burst: intArg(args, "burst", quick ? 500 : 2000), concurrency: intArg(args, "concurrency", 16) };
      const r = await benchNodeInvoke(cluster, o, log);
      return { header: r.header, rows: r.rows, json: { options: r.options, local: r.local, remote: r.remote }, windows: { "node-invoke local": r.windows.local, "node-invoke remote": r.windows.remote } };
    },
  },
  {
    name: "presence",
    title: "presence convergence across gateways",
    async run(cluster, log) {
      const r = await benchPresenceConvergence(cluster, { runs, rounds: intArg(args, "rounds", quick ? 6 : 12) }, log);
      const { header, rows, ...json } = r;
      return { header, rows, json };
    },
  },
  {
    name: "event-relay",
    title: "operator event relayed to the other gateways",
    async run(cluster, log) {
      const r = await benchEventRelay(cluster, { runs, events: intArg(args, "events", quick ? 30 : 100) }, log);
      const { header, rows, ...json } = r;
      return { header, rows, json };
    },
  },
  {
    name: "pairing",
    title: "new-device pairing: plain vs cluster gateway, propagation to another gateway",
    async run(cluster, log) {
      const o = {
        runs,
        handshakes: intArg(args, "pair-handshakes", quick ? 20 : 60),
        seconds: intArg(args, "pair-seconds", quick ? 2 : 5),
        concurrency: intArg(args, "pair-concurrency", 16),
        propagations: intArg(args, "propagations", quick ? 20 : 50),
      };
      const r = await benchPairing(cluster, o, log);
      const { header, rows, ...json } = r;
      return { header, rows, json };
    },
  },
  {
    name: "broadcast",
    title: "broadcast (tick) to N nodes: spread over the cluster vs one gateway",
    async run(cluster, log) {
      const o = { nodes: intArg(args, "nodes", quick ? 1500 : 15_000), idleS: intArg(args, "idle", quick ? 5 : 20), perProc: Math.max(1, intArg(args, "per-proc", 4000)) };
      const r = await benchBroadcast(cluster, o, log);
      const { header, rows, ...json } = r;
      return { header, rows, json };
    },
  },
];

async function main(): Promise<void> {
  // Inside run-all's per-script budget (600 s with --quick, 1800 s otherwise).
  guardProcess((quick ? 9 : 28) * 60_000);
  const only = listArg(args, "only", SECTIONS.map((s) => s.name));
  const unknown = only.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`--only: no such section: ${unknown.join(", ")} (have: ${SECTIONS.map((s) => s.name).join(", ")})\n`);
    process.exit(2);
  }
  const chosen = SECTIONS.filter((s) => only.includes(s.name));
  process.stdout.write(`${machineHeader()}\n`);
  const profileDir = cpuProf ? await mkdtemp(join(tmpdir(), "clawgate-cluster-prof-")) : null;
  const cluster = await startBenchCluster({
    gateways: 3,
    token: TOKEN,
    nodeArgs: (id) => (profileDir ? ["--cpu-prof", "--cpu-prof-dir", join(profileDir, id)] : []),
  });
  process.stdout.write(`cluster: ${cluster.gateways.map((g) => `${g.id} pid ${g.pid}`).join(", ")}; broker ${cluster.nats.url}; heartbeat ${cluster.heartbeatMs} ms, tick ${cluster.tickIntervalMs} ms\n`);
  const results: Record<string, unknown> = {};
  const windows: Record<string, TimeWindow[]> = {};
  try {
    for (const s of chosen) {
      process.stdout.write(`\n## ${s.title}\n`);
      const out = await s.run(cluster, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(`\n${formatTable(out.header, out.rows)}\n`);
      results[s.name] = out.json;
      Object.assign(windows, out.windows);
    }
  } finally {
    await cluster.stop();
  }
  if (profileDir) await printProfiles(profileDir, cluster, windows);
  const outFile = join(REPO_ROOT, "bench", "results", quick ? "cluster.quick.json" : "cluster.json");
  await mkdir(join(outFile, ".."), { recursive: true });
  await writeFile(outFile, `${JSON.stringify({ bench: "cluster", date: new Date().toISOString(), machine: machineInfo(), quick, runs, gateways: cluster.gateways.length, heartbeatMs: cluster.heartbeatMs, tickIntervalMs: cluster.tickIntervalMs, sections: results }, null, 2)}\n`);
  process.stdout.write(`results: ${outFile}\n`);
}

/** Top functions of each gateway within each set of measured windows. */
async function printProfiles(dir: string, cluster: BenchCluster, windows: Record<string, TimeWindow[]>): Promise<void> {
  for (const gw of cluster.gateways) {
    const files = (await readdir(join(dir, gw.id)).catch(() => [] as string[])).filter((f) => f.endsWith(".cpuprofile"));
    const file = files[0];
    if (!file) continue;
    const prof = readCpuProfile(join(dir, gw.id, file));
    process.stdout.write(`\n${gw.id} CPU profile: ${join(dir, gw.id, file)}\n`);
    for (const [name, ws] of Object.entries(windows)) {
      const sum = summariseCpuProfile(prof, REPO_ROOT, 15, ws);
      process.stdout.write(`\n${gw.id} during ${name} (${sum.totalMs.toFixed(0)} ms sampled, idle ${sum.idlePct.toFixed(0)}%)\n`);
      process.stdout.write(`${formatTable(["function", "self ms", "%"], sum.functions.map((f) => [f.name, f.selfMs.toFixed(0), f.pct.toFixed(1)]))}\n`);
    }
  }
}

await main();
// Fleet processes exit on their own message; anything left (a section that failed) goes here.
await killAll();
