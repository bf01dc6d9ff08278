/**
 * Cluster bench: several gateways as one on a NATS JetStream broker (docs/cluster.md).
 * Starts a private nats-server and gateway processes, then runs each section against
 * them and prints one table per section; JSON goes to bench/results/cluster[.quick].json
 * with one key per section.
 *
 *   node --import tsx bench/cluster.ts             # 5 runs per section
 *   node --import tsx bench/cluster.ts --quick     # 3 short runs
 *   node --import tsx bench/cluster.ts --only node-invoke
 *   node --import tsx bench/cluster.ts --cpu-prof  # + top functions of each gateway per measured phase
 *
 * Sections: `node-invoke` (local vs cross-gateway latency and gateway CPU per invoke).
 * A section is a function of the running cluster returning its table and JSON; add new
 * ones to SECTIONS.
 */
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { guardProcess, REPO_ROOT } from "./lib/children.js";
import { startBenchCluster, type BenchCluster } from "./lib/cluster-harness.js";
import { readCpuProfile, summariseCpuProfile, type TimeWindow } from "./lib/cpu-profile.js";
import { benchNodeInvoke } from "./lib/cluster-node-invoke.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { formatTable } from "./lib/stats.js";

const args = parseArgs(process.argv.slice(2));
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
];

async function main(): Promise<void> {
  guardProcess((quick ? 5 : 20) * 60_000);
  const only = listArg(args, "only", SECTIONS.map((s) => s.name));
  const chosen = SECTIONS.filter((s) => only.includes(s.name));
  process.stdout.write(`${machineHeader()}\n`);
  const profileDir = cpuProf ? await mkdtemp(join(tmpdir(), "clawgate-cluster-prof-")) : null;
  const cluster = await startBenchCluster({
    gateways: 2,
    token: TOKEN,
    nodeArgs: (id) => (profileDir ? ["--cpu-prof", "--cpu-prof-dir", join(profileDir, id)] : []),
  });
  process.stdout.write(`cluster: ${cluster.gateways.map((g) => `${g.id} pid ${g.pid}`).join(", ")}; broker ${cluster.nats.url}; heartbeat ${cluster.heartbeatMs} ms\n`);
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
  await writeFile(outFile, `${JSON.stringify({ machine: machineInfo(), runs, sections: results }, null, 2)}\n`);
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
