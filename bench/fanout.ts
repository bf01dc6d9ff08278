/**
 * Node fan-out: N device-signed nodes held by one gateway.
 *
 *   node --import tsx bench/fanout.ts [--quick] [--sizes 1000,5000] [--url ws://… --token T --pid PID]
 *
 * For each fleet size N (default 1k, 5k, 10k, 15k) against a fresh gateway (started here
 * through its CLI, or any gateway given with --url), it measures:
 *   - connect rate: all N nodes handshake (first connect, so silent loopback pairing
 *     included) and the gateway's CPU per handshake;
 *   - gateway RSS per connection (VmRSS before connecting vs after an idle window);
 *   - idle CPU with N connected, ticks included (tick interval from config, 1 s default);
 *   - broadcast reach: every tick's `ts` vs its receipt on every node — per-node latency
 *     and the time until the last node got it (p50/p99 over the ticks of the window);
 *   - `node.invoke` round trips (operator → gateway → node → gateway → operator) to random
 *     nodes, p50/p99 and throughput;
 *   - reconnect storm: the gateway restarts on the same port, the fleet reconnects with the
 *     reference client's backoff (1 s, ×2) presenting its device tokens.
 * Nodes live in several processes (this machine caps open files at 20,000 per process),
 * each on its own loopback source addresses (the gateway admits 64 unauthenticated
 * sockets per IP). See docs/nodes.md for the figures and what they mean.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, forkTs, guardProcess, killAll, sleep } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { processCpuSeconds, systemCpuSeconds } from "./lib/proc-stat.js";
import { fmt, formatTable } from "./lib/stats.js";
import { buildDist } from "./lib/build-dist.js";
import { parseWsUrl } from "./lib/raw-ws.js";
import { readCpuProfile, summariseCpuProfile } from "./lib/cpu-profile.js";
import { FleetControl } from "./fanout/fleet-control.js";
import { GatewayProc } from "./fanout/gateway-proc.js";
import { runInvokes } from "./fanout/invoker.js";
import { pcts, tickReach, type SizeResult } from "./fanout/measures.js";
import type { TickBaselineConfig, TickBaselineReply } from "./fanout/uws-tick-baseline.js";

const HELP = `bench/fanout.ts — N device-signed nodes on one gateway

  --quick               smoke run: 1,000 nodes, short windows → bench/results/fanout.quick.json
  --sizes a,b           fleet sizes (default 1000,5000,10000,15000)
  --per-proc N          nodes per fleet process (default 4000; the fd limit is per process)
  --ips N               loopback source addresses per fleet process (default 16)
  --per-ip N            handshakes in flight per source address (default 48; gateway budget 64)
  --idle S              idle window with N connected (default 30; 5 with --quick)
  --tick-ms MS          tick interval of the started gateway (default 1000)
  --invokes N           node.invoke calls (default 20000; 2000 with --quick)
  --invoke-concurrency C  invokes in flight (default 64)
  --restart MODE        respawn (SIGTERM + new process on the port, default) | sigusr1 | none
  --no-baseline         skip the bare-uWS fan-out floor (same fleet, connect + idle + ticks only)
  --runtime tsx|dist    started gateway through tsx (default) or compiled by tsc (like npm start)
  --cpu-prof            run the started gateway under --cpu-prof; print its top frames per size
  --url ws://…          measure this gateway instead (loopback only); restarts need --restart-cmd
  --pid PID             its pid, for RSS and CPU figures
  --token T             shared token (default: the bench's own)
  --restart-cmd "…"     shell command that restarts the --url gateway (reconnect storm)
  --out FILE            JSON output (default bench/results/fanout.json)
`;

const BENCH_TOKEN = "bench-token-0123456789abcdef";
const TARGETS = { nodes: 15_000, broadcastP99Ms: 100, rssPerConnKiB: 8, storm10kS: 10 };

const args = parseArgs(process.argv.slice(2));
if (args.switches.has("help")) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = args.switches.has("quick");
const sizes = listArg(args, "sizes", quick ? ["1000"] : ["1000", "5000", "10000", "15000"]).map(Number);
const perProc = Math.max(1, intArg(args, "per-proc", 4000));
const ipsPerProc = Math.max(1, intArg(args, "ips", 16));
const perIp = Math.max(1, intArg(args, "per-ip", 48));
const idleS = intArg(args, "idle", quick ? 5 : 30);
const tickMs = Math.max(10, intArg(args, "tick-ms", 1000));
const invokes = intArg(args, "invokes", quick ? 2000 : 20_000);
const invokeConcurrency = Math.max(1, intArg(args, "invoke-concurrency", 64));
const restartMode = args.values.get("restart") ?? "respawn";
const runtime = args.values.get("runtime") ?? "tsx";
const externalUrl = args.values.get("url");
const externalPid = args.values.has("pid") ? intArg(args, "pid", 0) : undefined;
const restartCmd = args.values.get("restart-cmd");
const token = args.values.get("token") ?? BENCH_TOKEN;
const cpuProf = args.switches.has("cpu-prof") && externalUrl === undefined;
const withBaseline = !args.switches.has("no-baseline");
const outFile = args.values.get("out") ?? join(REPO_ROOT, "bench", "results", quick ? "fanout.quick.json" : "fanout.json");
const profileRoot = join(REPO_ROOT, "bench", "results", "profiles");
if (!["respawn", "sigusr1", "none"].includes(restartMode) || !["tsx", "dist"].includes(runtime)) {
  process.stderr.write(HELP);
  process.exit(2);
}

guardProcess((quick ? 10 : 40) * 60_000);

/** The soft `ulimit -n` children inherit (Node cannot read rlimits itself). */
function openFileLimit(): number {
  try {
    return Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Gateway CPU-seconds (undefined when its pid is unknown). */
function cpuOf(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : processCpuSeconds(pid);
}

async function rssOfPid(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : undefined;
}

/** What a size is measured against. */
interface Target {
  name: string;
  url: string;
  pid(): number | undefined;
  /** Tick interval it runs with (NaN when unknown: an external gateway). */
  tickMs: number;
  /** Supports node.invoke and a restart. */
  full: boolean;
  restart?: () => Promise<{ signalledAt: number; listeningAt: number; mode: string }>;
  dispose(): Promise<void>;
}

async function gatewayTarget(cliEntry: string | undefined, profDir: string): Promise<Target> {
  if (cpuProf) await mkdir(profDir, { recursive: true });
  const gw = await GatewayProc.start({ token, tickIntervalMs: tickMs, cliEntry, nodeArgs: cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [] });
  return {
    name: `gateway (${runtime})`,
    url: gw.url,
    pid: () => gw.pid,
    tickMs,
    full: true,
    restart:
      restartMode === "none"
        ? undefined
        : async () => ({ ...(await gw.restart(restartMode as "respawn" | "sigusr1")), mode: restartMode }),
    dispose: () => gw.dispose(),
  };
}

const BASELINE = join(dirname(fileURLToPath(import.meta.url)), "fanout", "uws-tick-baseline.ts");

async function baselineTarget(): Promise<Target> {
  const child = forkTs(BASELINE);
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    child.once("message", (m: TickBaselineReply) => (m.type === "tick-baseline-listening" ? resolve(m) : reject(new Error(m.message))));
    child.once("exit", (code) => reject(new Error(`tick baseline exited (code ${code})`)));
    child.send({ type: "tick-baseline-config", tickIntervalMs: tickMs } satisfies TickBaselineConfig);
  });
  return {
    name: "bare uWS floor",
    url: `ws://127.0.0.1:${port}`,
    pid: () => pid,
    tickMs,
    full: false,
    dispose: async () => {
      child.kill("SIGTERM");
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
    },
  };
}

function externalTarget(url: string): Target {
  return {
    name: url,
    url,
    pid: () => externalPid,
    tickMs: Number.NaN,
    full: true,
    restart: restartCmd
      ? async () => {
          const signalledAt = Date.now();
          execFileSync("sh", ["-c", restartCmd], { stdio: "inherit" });
          return { signalledAt, listeningAt: Date.now(), mode: "command" };
        }
      : undefined,
    dispose: async () => {},
  };
}

async function runSize(n: number, fdLimit: number, makeTarget: () => Promise<Target>, label: string): Promise<SizeResult> {
  const procs = Math.ceil(n / perProc);
  const r: SizeResult = { nodes: n, procs, target: label };
  // The gateway holds one fd per node plus a few dozen of its own; each fleet process the same.
  if (Number.isFinite(fdLimit) && (n + 200 > fdLimit || Math.ceil(n / procs) + 200 > fdLimit)) {
    r.skipped = `ulimit -n is ${fdLimit}: a gateway holding ${n} nodes needs ~${n + 200} open files (the per-process ceiling of this machine)`;
    process.stdout.write(`\n[${n}] skipped: ${r.skipped}\n`);
    return r;
  }
  let target: Target | null = null;
  let fleet: FleetControl | null = null;
  try {
    target = await makeTarget();
    const tg = target;
    r.target = tg.name;
    const pid = (): number | undefined => tg.pid();
    const t = parseWsUrl(tg.url);
    process.stdout.write(`\n[${n} · ${tg.name}] ${tg.url}${pid() !== undefined ? ` (pid ${pid()})` : ""}; ${procs} fleet process(es)\n`);
    await sleep(1000);
    const rssBefore = await rssOfPid(pid());

    fleet = await FleetControl.start({
      count: n,
      procs,
      ipsPerProc,
      host: t.host,
      port: t.port,
      path: t.path,
      hostHeader: t.hostHeader,
      token,
      perIpInFlight: perIp,
      platform: "linux",
      commands: ["system.run", "system.which"],
      handshakeTimeoutMs: 60_000,
    });

    // 1. Connect (first connect: every device is new and paired silently from loopback).
    const cpu0 = cpuOf(pid());
    const connected = await fleet.all(() => ({ type: "connect" }), "connected");
    const cpu1 = cpuOf(pid());
    const startedAt = Math.min(...connected.map((c) => c.startedAt));
    const seconds = (Math.max(...connected.map((c) => c.doneAt)) - startedAt) / 1000;
    r.connect = { seconds, perSecond: n / seconds, failures: connected.reduce((a, c) => a + c.failures, 0) };
    if (cpu0 !== undefined && cpu1 !== undefined) r.connect.gatewayCpuMsPerHandshake = ((cpu1 - cpu0) * 1000) / n;
    process.stdout.write(`[${n} · ${tg.name}] connected in ${fmt(seconds, 2)} s (${fmt(r.connect.perSecond)} handshakes/s)\n`);
    await sleep(2000);
    const rssConnected = await rssOfPid(pid());

    // 2. Idle with N connected: ticks included; every tick's receipt is recorded.
    fleet.tell({ type: "ticks-start" });
    const sys0 = systemCpuSeconds();
    const own0 = fleet.cpuSeconds();
    const cpuA = cpuOf(pid());
    await sleep(idleS * 1000);
    const cpuB = cpuOf(pid());
    const own1 = fleet.cpuSeconds();
    const sys1 = systemCpuSeconds();
    const ticks = await fleet.all(() => ({ type: "ticks-stop" }), "ticks");
    const rssIdle = await rssOfPid(pid());
    r.idle = { seconds: idleS, tickIntervalMs: tg.tickMs };
    if (cpuA !== undefined && cpuB !== undefined) r.idle.gatewayCpuPct = ((cpuB - cpuA) / idleS) * 100;
    if (sys0 && sys1 && cpuA !== undefined && cpuB !== undefined) r.idle.otherCores = (sys1.busy - sys0.busy - (cpuB - cpuA) - (own1 - own0)) / idleS;
    if (rssBefore !== undefined && rssConnected !== undefined && rssIdle !== undefined) {
      r.rss = { beforeKiB: rssBefore, connectedKiB: rssConnected, afterIdleKiB: rssIdle, perConnKiB: (rssIdle - rssBefore) / n };
    }
    const reach = tickReach(ticks.flatMap((m) => m.spans), n);
    r.broadcast = {
      perNodeMs: pcts(ticks.flatMap((m) => m.latencies)),
      reachAllMs: pcts(reach.reachAllMs),
      spreadMs: pcts(reach.spreadMs),
      ticks: reach.reachAllMs.length,
      partialTicks: reach.partial,
    };
    process.stdout.write(`[${n} · ${tg.name}] idle ${idleS} s: ${reach.reachAllMs.length} ticks reached all ${n}\n`);
    if (!tg.full) return r;

    // 3. node.invoke round trips to random nodes.
    if (invokes > 0) {
      const c0 = cpuOf(pid());
      const inv = await runInvokes(tg.url, token, fleet.ids, invokes, invokeConcurrency);
      const c1 = cpuOf(pid());
      r.invoke = {
        count: inv.count,
        concurrency: invokeConcurrency,
        errors: inv.errors,
        lastError: inv.lastError,
        perSecond: inv.count / inv.seconds,
        rttMs: pcts(inv.rttMs),
      };
      if (c0 !== undefined && c1 !== undefined) r.invoke.gatewayCpuUsPerInvoke = ((c1 - c0) * 1e6) / inv.count;
      process.stdout.write(`[${n} · ${tg.name}] ${inv.count} invokes: ${fmt(r.invoke.perSecond)}/s, ${inv.errors} errors\n`);
    }

    // 4. Reconnect storm after a restart on the same port.
    if (tg.restart) {
      await fleet.all(() => ({ type: "mark" }), "status");
      const { signalledAt, listeningAt, mode } = await tg.restart();
      const cs0 = cpuOf(pid());
      const ready = await fleet.all(() => ({ type: "wait-ready", timeoutMs: 180_000 }), "ready");
      const cs1 = cpuOf(pid());
      const doneAt = Math.max(...ready.map((m) => m.doneAt));
      const firstAt = Math.min(...ready.map((m) => m.firstAt));
      r.storm = {
        mode,
        sinceSignalS: (doneAt - signalledAt) / 1000,
        sinceListeningS: (doneAt - listeningAt) / 1000,
        restartS: (listeningAt - signalledAt) / 1000,
        perSecond: n / Math.max(0.001, (doneAt - firstAt) / 1000),
        reconnects: ready.reduce((a, m) => a + m.reconnects, 0),
        refused: ready.reduce((a, m) => a + m.refused, 0),
      };
      // A respawned gateway's counters start at zero (its whole life is the storm).
      if (cs1 !== undefined) r.storm.gatewayCpuMsPerHandshake = ((cs1 - (mode === "respawn" ? 0 : (cs0 ?? 0))) * 1000) / n;
      process.stdout.write(`[${n} · ${tg.name}] reconnect storm (${mode}): all back ${fmt(r.storm.sinceListeningS, 2)} s after the new listener (${fmt(r.storm.sinceSignalS, 2)} s after the signal)\n`);
    }
  } catch (err) {
    r.error = err instanceof Error ? err.message : String(err);
    process.stdout.write(`[${n}] FAILED: ${r.error}\n`);
  } finally {
    fleet?.exit();
    await target?.dispose();
  }
  return r;
}

async function printProfile(dir: string, n: number): Promise<void> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".cpuprofile"));
  for (const f of files) {
    const s = summariseCpuProfile(readCpuProfile(join(dir, f)), REPO_ROOT, 12);
    if (s.totalMs - (s.totalMs * s.idlePct) / 100 < 500) continue; // worker threads, idle
    process.stdout.write(`\n[${n}] gateway profile ${f}: ${fmt(s.totalMs / 1000, 1)} s, ${fmt(s.idlePct, 0)}% idle; top self time:\n`);
    for (const row of s.functions) process.stdout.write(`  ${fmt(row.pct, 1).padStart(5)}%  ${row.name}\n`);
  }
}

function table(results: SizeResult[]): string {
  const cell = (v: number | undefined, d = 0): string => fmt(v, d);
  const rows = results.map((r) =>
    r.skipped || r.error
      ? [String(r.nodes), r.target, r.skipped ? "skipped (ulimit)" : `error: ${(r.error ?? "").slice(0, 60)}`]
      : [
          fmt(r.nodes),
          r.target,
          cell(r.connect?.perSecond),
          cell(r.connect?.gatewayCpuMsPerHandshake, 2),
          cell(r.rss?.perConnKiB, 2),
          cell(r.idle?.gatewayCpuPct, 1),
          `${cell(r.broadcast?.reachAllMs.p50)} / ${cell(r.broadcast?.reachAllMs.p99)}`,
          `${cell(r.broadcast?.perNodeMs.p50)} / ${cell(r.broadcast?.perNodeMs.p99)}`,
          `${cell(r.invoke?.rttMs.p50, 2)} / ${cell(r.invoke?.rttMs.p99, 2)}`,
          cell(r.invoke?.perSecond),
          r.storm ? `${cell(r.storm.sinceListeningS, 2)} (${cell(r.storm.sinceSignalS, 2)})` : "-",
          cell(r.storm?.perSecond),
        ],
  );
  return formatTable(
    ["nodes", "target", "connect/s", "CPU ms/hs", "RSS KiB/conn", "idle CPU %", "reach-all ms p50/p99", "per-node ms p50/p99", "invoke ms p50/p99", "invokes/s", "storm s (since signal)", "storm hs/s"],
    rows,
  );
}

function verdicts(all: SizeResult[]): string[] {
  let results = all;
  const out: string[] = [];
  const ok = (b: boolean): string => (b ? "met" : "MISSED");
  results = results.filter((r) => !r.target.startsWith("bare"));
  const biggest = results.filter((r) => r.connect && !r.error).sort((a, b) => b.nodes - a.nodes)[0];
  if (biggest && sizes.some((n) => n >= TARGETS.nodes)) out.push(`${ok(biggest.nodes >= TARGETS.nodes)}: ${fmt(biggest.nodes)} nodes held (target ${fmt(TARGETS.nodes)})`);
  for (const r of results) {
    if (r.broadcast && Number.isFinite(r.broadcast.reachAllMs.p99)) out.push(`${ok(r.broadcast.reachAllMs.p99 < TARGETS.broadcastP99Ms)}: ${fmt(r.nodes)} nodes, broadcast reaches all p99 ${fmt(r.broadcast.reachAllMs.p99)} ms (target < ${TARGETS.broadcastP99Ms})`);
    if (r.rss) out.push(`${ok(r.rss.perConnKiB < TARGETS.rssPerConnKiB)}: ${fmt(r.nodes)} nodes, ${fmt(r.rss.perConnKiB, 2)} KiB RSS per idle connection (target < ${TARGETS.rssPerConnKiB})`);
    if (r.storm && r.nodes >= 10_000) out.push(`${ok(r.storm.sinceListeningS < TARGETS.storm10kS)}: ${fmt(r.nodes)} nodes back ${fmt(r.storm.sinceListeningS, 2)} s after the restart (target < ${TARGETS.storm10kS} s)`);
  }
  return out;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  process.stdout.write(`${machineHeader(machine)}\n`);
  const fdLimit = openFileLimit();
  process.stdout.write(`ulimit -n: ${fdLimit} (per process, gateway and each fleet process alike)\n`);
  let cliEntry: string | undefined;
  if (externalUrl === undefined && runtime === "dist") {
    const b = await buildDist();
    if (b.diagnostics) process.stdout.write(`note: tsc reported errors in the tree (emitted anyway):\n${b.diagnostics.slice(0, 800)}\n`);
    cliEntry = b.cliEntry;
  }
  const results: SizeResult[] = [];
  for (const n of sizes) {
    const profDir = join(profileRoot, `fanout-${n}`);
    const main = externalUrl === undefined ? () => gatewayTarget(cliEntry, profDir) : async () => externalTarget(externalUrl);
    results.push(await runSize(n, fdLimit, main, externalUrl ?? `gateway (${runtime})`));
    if (cpuProf) await printProfile(profDir, n);
    if (withBaseline) results.push(await runSize(n, fdLimit, baselineTarget, "bare uWS floor"));
  }
  process.stdout.write(`\n${table(results)}\n`);
  process.stdout.write(
    "\nconnect/s: first connect of every node (Ed25519 verify + silent loopback pairing); CPU ms/hs: server CPU per handshake;\n" +
      "reach-all: tick ts → receipt by the LAST node; per-node: tick ts → receipt; storm: all nodes back after the new listener is up\n" +
      "(after the restart signal), with the reference client's backoff (retries 1, 3, 7, 15 s after the close); storm hs/s: N / (last − first\n" +
      "reconnect), i.e. the rate the gateway absorbed the storm once the nodes came back.\n" +
      "bare uWS floor: the same fleet against a uWS server that only answers the handshake with constants and publishes ticks.\n\n",
  );
  for (const v of verdicts(results)) process.stdout.write(`${v}\n`);
  await mkdir(join(REPO_ROOT, "bench", "results"), { recursive: true });
  const json = {
    bench: "fanout",
    date: new Date().toISOString(),
    machine,
    ulimitN: fdLimit,
    target: externalUrl ?? `gateway (${runtime})`,
    options: { sizes, perProc, ipsPerProc, perIp, idleS, tickMs, invokes, invokeConcurrency, restartMode, quick, baseline: withBaseline },
    targets: TARGETS,
    results,
  };
  await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nwrote ${outFile}\n`);
}

main()
  .then(() => killAll())
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`fanout failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await killAll();
    process.exit(1);
  });
