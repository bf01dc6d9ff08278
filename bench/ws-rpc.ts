/**
 * WebSocket RPC and handshake throughput of the gateway vs a bare uWS baseline.
 *
 *   node --import tsx bench/ws-rpc.ts [--quick] [--url ws://127.0.0.1:P --pid PID --token T]
 *
 * Measures, for each target (the gateway, started here through its CLI in a child
 * process, or any gateway given with --url; and a bare uWS server answering with the
 * gateway's own frames):
 *   - `health` / `status` requests per second with K requests pipelined per connection,
 *     and the server's CPU-seconds per 100k requests (utime+stime from /proc/<pid>/stat);
 *   - handshakes per second (connect → hello-ok → close) with token auth and with
 *     Ed25519 device signatures (v2 payload with the challenge nonce).
 * Each figure is the median of several windows (spread shown); targets are interleaved
 * run by run so slow drifts of a shared machine hit both alike. The load generator runs in
 * separate processes; on a 2-core machine it and the server share the cores.
 * See docs/bench.md for every option and column.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, guardProcess, killAll, sleep, spawnGateway, type SpawnedGateway } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { processCpuSeconds, systemCpuSeconds } from "./lib/proc-stat.js";
import { fmt, fmtSpread, formatTable, spread, type Spread } from "./lib/stats.js";
import { LoadGenerators, split } from "./lib/load-controller.js";
import { captureFrames, type CapturedFrames } from "./lib/capture.js";
import { startBaseline, type Baseline } from "./lib/baseline.js";
import { mainThreadProfile, monotonicMicros, readCpuProfile, summariseCpuProfile, type ProfileSummary } from "./lib/cpu-profile.js";
import { buildDist } from "./lib/build-dist.js";
import type { ClientIdentity } from "./lib/connect-frames.js";
import type { HandshakeSetup, RpcSetup } from "./lib/load-protocol.js";

const HELP = `bench/ws-rpc.ts — WS RPC + handshake throughput vs a bare uWS baseline

  --quick               short smoke run (3 x 1 s windows); JSON goes to ws-rpc.quick.json
  --runs N              measured windows per scenario (default 5)
  --duration S          seconds per window (default 5)
  --warmup S            seconds of load before each window (default 1)
  --prime S             extra load before a scenario's first window, for JIT tier-up
                        (default 3; 1 with --quick)
  --methods a,b         RPC methods (default health,status; "none" skips RPC)
  --conns N             RPC connections in total (default 8)
  --depth K             requests in flight per connection (default 32)
  --handshakes a,b      handshake auth modes: token,device (default both; "none" skips)
  --hs-concurrency C    concurrent connectors in total (default 16; pre-auth limit is 64/IP)
  --hs-client id:mode   client.id/client.mode of handshaking clients (default cli:cli)
  --devices N           Ed25519 keys in the device pool per generator (default 32)
  --gens N              load-generator processes (default 1)
  --runtime tsx|dist    how the started gateway runs: through tsx from src/ (default), or
                        compiled by tsc into bench/.build/ and run as plain JS (like npm start)
  --url ws://…          measure this gateway instead of starting one (loopback only)
  --pid PID             its process id, for CPU figures (without it CPU is not reported)
  --token T             shared token for --url (default: the bench's own token)
  --no-baseline         skip the uWS baseline
  --cpu-prof            run the started gateway under --cpu-prof and print its top frames
  --out FILE            JSON output (default bench/results/ws-rpc.json)
`;

const BENCH_TOKEN = "bench-token-0123456789abcdef";
/** Above this many cores of foreign load in a window, the run is flagged as contended. */
const BUSY_MACHINE_CORES = 0.25;
const RPC_CLIENT: ClientIdentity = { id: "gateway-client", mode: "backend" };

interface Target {
  name: string;
  url: string;
  pid: number | undefined;
}

/** One measured window. */
interface Sample {
  seconds: number;
  completed: number;
  errors: number;
  lastError?: string;
  serverCpu: number | undefined;
  generatorCpu: number;
  /** Busy CPU of everything else on the machine (other jobs, kernel threads), in seconds. */
  otherCpu: number | undefined;
  /** The measured window in CLOCK_MONOTONIC µs (matches --cpu-prof sample times). */
  window: { startUs: number; endUs: number };
}

interface ScenarioResult {
  kind: "rpc" | "handshake";
  /** Method name, or the handshake auth mode. */
  scenario: string;
  target: string;
  samples: Sample[];
  /** Completions per second. */
  perSecond: Spread;
  /** Server CPU-seconds per 100k requests (rpc) / CPU-ms per 1k handshakes. */
  serverCpuPerUnit: Spread | null;
  /** Server CPU use in cores (1.0 = one core saturated). */
  serverCores: Spread | null;
  generatorCores: Spread;
  otherCores: Spread | null;
  errors: number;
  lastError?: string;
}

const args = parseArgs(process.argv.slice(2));
if (args.switches.has("help")) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = args.switches.has("quick");
const runs = intArg(args, "runs", quick ? 3 : 5);
const durationMs = intArg(args, "duration", quick ? 1 : 5) * 1000;
const warmupMs = intArg(args, "warmup", quick ? 0.3 : 1) * 1000;
const primeMs = intArg(args, "prime", quick ? 1 : 3) * 1000;
const methods = listArg(args, "methods", ["health", "status"]).filter((m) => m !== "none");
const hsModes = listArg(args, "handshakes", ["token", "device"]).filter((m) => m !== "none");
for (const m of hsModes) {
  if (m !== "token" && m !== "device") {
    process.stderr.write(`--handshakes: unknown mode ${m} (token, device)\n`);
    process.exit(2);
  }
}
const conns = Math.max(1, intArg(args, "conns", 8));
const depth = Math.max(1, intArg(args, "depth", 32));
const hsConcurrency = Math.max(1, intArg(args, "hs-concurrency", 16));
const devicesPerGen = Math.max(1, intArg(args, "devices", 32));
const gensN = Math.max(1, intArg(args, "gens", 1));
const [hsId = "cli", hsMode = "cli"] = (args.values.get("hs-client") ?? "cli:cli").split(":");
const HS_CLIENT: ClientIdentity = { id: hsId, mode: hsMode };
const externalUrl = args.values.get("url");
const externalPid = args.values.has("pid") ? intArg(args, "pid", 0) : undefined;
const token = args.values.get("token") ?? BENCH_TOKEN;
const withBaseline = !args.switches.has("no-baseline");
const cpuProf = args.switches.has("cpu-prof") && externalUrl === undefined;
const runtime = args.values.get("runtime") ?? "tsx";
if (runtime !== "tsx" && runtime !== "dist") {
  process.stderr.write(`--runtime must be tsx or dist, got ${runtime}\n`);
  process.exit(2);
}
const outFile = args.values.get("out") ?? join(REPO_ROOT, "bench", "results", quick ? "ws-rpc.quick.json" : "ws-rpc.json");
const profileDir = join(REPO_ROOT, "bench", "results", "profiles");

const targetsCount = withBaseline ? 2 : 1;
const windowMs = warmupMs + durationMs + 1500;
const scenarios = (methods.length + hsModes.length) * targetsCount;
const budgetMs = 90_000 + (runtime === "dist" ? 180_000 : 0) + 1.5 * scenarios * (runs * windowMs + primeMs);
guardProcess(budgetMs);

const machine = machineInfo();
const notes = [
  `The load generator (${gensN} process${gensN > 1 ? "es" : ""}) and the server(s) share this machine's ${machine.cpus} CPU(s); a target can use at most what the generator leaves.`,
  "Server CPU = utime+stime of the server process over the window (all its threads); generator CPU likewise; 'other' = machine busy time minus both (other jobs).",
  "Baseline = bare uWS server answering every request with the gateway's own captured res frame (no parsing, validation, auth or dispatch): the transport ceiling.",
  "Baseline handshakes skip auth entirely: a device-signed baseline handshake costs the server the same as a token one (the client still signs).",
];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One warm-up + measured window on running generators. */
async function measure(gens: LoadGenerators, pid: number | undefined, extraWarmupMs: number): Promise<Sample> {
  gens.run();
  await sleep(warmupMs + extraWarmupMs);
  const m0 = await gens.mark();
  const cpu0 = pid === undefined ? undefined : processCpuSeconds(pid);
  const gen0 = gens.cpuSeconds();
  const sys0 = systemCpuSeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const startUs = monotonicMicros();
  await sleep(durationMs);
  const m1 = await gens.mark();
  const t1 = performance.now();
  const endUs = monotonicMicros();
  const cpu1 = pid === undefined ? undefined : processCpuSeconds(pid);
  const gen1 = gens.cpuSeconds();
  const sys1 = systemCpuSeconds();
  const self = process.cpuUsage(self0);
  const stopped = await gens.stop();
  const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  const generatorCpu = gen1 - gen0;
  const otherCpu =
    sys0 && sys1 ? Math.max(0, sys1.busy - sys0.busy - (serverCpu ?? 0) - generatorCpu - (self.user + self.system) / 1e6) : undefined;
  return {
    seconds: (t1 - t0) / 1000,
    completed: m1.completed - m0.completed,
    errors: stopped.errors,
    lastError: stopped.lastError,
    serverCpu,
    generatorCpu,
    otherCpu,
    window: { startUs, endUs },
  };
}

function summarise(kind: ScenarioResult["kind"], scenario: string, target: Target, samples: Sample[]): ScenarioResult {
  const unit = kind === "rpc" ? 100_000 : 1000;
  const scale = kind === "rpc" ? 1 : 1000; // rpc: CPU-s per 100k; handshakes: CPU-ms per 1k
  const hasCpu = samples.every((s) => s.serverCpu !== undefined);
  const hasOther = samples.every((s) => s.otherCpu !== undefined);
  const last = samples.find((s) => s.lastError)?.lastError;
  return {
    kind,
    scenario,
    target: target.name,
    samples,
    perSecond: spread(samples.map((s) => s.completed / s.seconds)),
    serverCpuPerUnit: hasCpu ? spread(samples.map((s) => (((s.serverCpu as number) * scale) / Math.max(1, s.completed)) * unit)) : null,
    serverCores: hasCpu ? spread(samples.map((s) => (s.serverCpu as number) / s.seconds)) : null,
    generatorCores: spread(samples.map((s) => s.generatorCpu / s.seconds)),
    otherCores: hasOther ? spread(samples.map((s) => (s.otherCpu as number) / s.seconds)) : null,
    errors: samples.reduce((a, s) => a + s.errors, 0),
    ...(last ? { lastError: last } : {}),
  };
}

/** Runs one scenario on every target, interleaving targets run by run. */
async function runScenario(
  kind: ScenarioResult["kind"],
  scenario: string,
  targets: Target[],
  setupsFor: (t: Target) => (RpcSetup | HandshakeSetup)[],
): Promise<ScenarioResult[]> {
  const gens: LoadGenerators[] = [];
  try {
    for (const t of targets) gens.push(await LoadGenerators.start(setupsFor(t), 30_000));
    const samples: Sample[][] = targets.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i] as Target;
        // The first window of a scenario also primes it: until the handlers are optimised
        // (and the heap has grown) the first seconds run measurably slower.
        const s = await measure(gens[i] as LoadGenerators, t.pid, r === 0 ? primeMs : 0);
        (samples[i] as Sample[]).push(s);
        const cpu = s.serverCpu === undefined ? "" : ` · server ${fmt(s.serverCpu / s.seconds, 2)} cores`;
        log(`  ${kind} ${scenario} · ${t.name} · run ${r + 1}/${runs}: ${fmt(s.completed / s.seconds)}/s${cpu}${s.errors ? ` · ${s.errors} errors (${s.lastError ?? "?"})` : ""}`);
      }
    }
    return targets.map((t, i) => summarise(kind, scenario, t, samples[i] as Sample[]));
  } finally {
    await Promise.all(gens.map((g) => g.close()));
  }
}

function rpcSetups(t: Target, method: string): RpcSetup[] {
  return split(conns, gensN).map((c) => ({ type: "rpc-setup", url: t.url, token, client: RPC_CLIENT, conns: c, depth, method, timeoutMs: 10_000 }));
}

function hsSetups(t: Target, auth: "token" | "device"): HandshakeSetup[] {
  return split(hsConcurrency, gensN).map((c) => ({
    type: "handshake-setup",
    url: t.url,
    token,
    client: HS_CLIENT,
    concurrency: c,
    auth,
    devices: devicesPerGen,
    timeoutMs: 10_000,
  }));
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : a / b;
}

function printTables(results: ScenarioResult[], mainName: string): Record<string, Record<string, number | undefined>> {
  const ratios: Record<string, Record<string, number | undefined>> = {};
  for (const kind of ["rpc", "handshake"] as const) {
    const rs = results.filter((r) => r.kind === kind);
    if (rs.length === 0) continue;
    const cpuHead = kind === "rpc" ? "server CPU-s/100k req" : "server CPU-ms/1k hs";
    const rows = rs.map((r) => [
      kind === "rpc" ? r.scenario : `${r.scenario} auth`,
      r.target,
      fmtSpread(r.perSecond),
      fmtSpread(r.serverCpuPerUnit ?? undefined, 2),
      fmtSpread(r.serverCores ?? undefined, 2),
      fmt(r.generatorCores.median, 2),
      fmt(r.otherCores?.median, 2),
      String(r.errors),
    ]);
    log("");
    log(kind === "rpc" ? `RPC (${conns} conns x ${depth} in flight, ${gensN} generator process(es))` : `Handshakes (connect → hello-ok → close, ${hsConcurrency} concurrent, client ${HS_CLIENT.id}/${HS_CLIENT.mode})`);
    log(
      formatTable(
        [kind === "rpc" ? "method" : "auth", "target", kind === "rpc" ? "req/s median (min–max)" : "hs/s median (min–max)", cpuHead, "server cores", "gen cores", "other cores", "errors"],
        rows,
      ),
    );
    const scenarios = [...new Set(rs.map((r) => r.scenario))];
    const ratioRows: string[][] = [];
    for (const sc of scenarios) {
      const ours = rs.find((r) => r.scenario === sc && r.target === mainName);
      const base = rs.find((r) => r.scenario === sc && r.target === "uws-baseline");
      if (!ours || !base) continue;
      const thr = ratio(ours.perSecond.median, base.perSecond.median);
      const cpu = ratio(ours.serverCpuPerUnit?.median, base.serverCpuPerUnit?.median);
      ratios[`${kind}:${sc}`] = { throughput: thr, cpuPerUnit: cpu };
      ratioRows.push([kind === "rpc" ? sc : `${sc} auth`, thr === undefined ? "-" : `${fmt(thr * 100, 0)}%`, cpu === undefined ? "-" : `${fmt(cpu, 2)}x`]);
    }
    if (ratioRows.length > 0) {
      log("");
      log(formatTable([`${mainName} / baseline`, "throughput", "server CPU per unit"], ratioRows));
    }
  }
  return ratios;
}

/** The main-thread profile of process `pid` (`CPU.<date>.<time>.<pid>.<thread 0>.<seq>.cpuprofile`). */
async function main(): Promise<void> {
  log("bench/ws-rpc — WebSocket RPC + handshake throughput");
  log(machineHeader(machine));
  log(`note: ${notes[0]}`);
  log(
    `config: ${runs} x ${durationMs / 1000} s windows (+${warmupMs / 1000} s warm-up)${quick ? " [--quick]" : ""}; ` +
      `rpc ${conns} conns x ${depth} in flight; handshakes ${hsConcurrency} concurrent; ${gensN} generator process(es)`,
  );

  let gateway: SpawnedGateway | undefined;
  let baseline: Baseline | undefined;
  const startedAt = new Date().toISOString();
  const targets: Target[] = [];
  let mainName = "clawgate";
  /** Gateway CPU profile per scenario (measured windows only). */
  const profiles: Record<string, ProfileSummary> = {};
  try {
    if (externalUrl) {
      mainName = "target";
      targets.push({ name: mainName, url: externalUrl, pid: externalPid });
      log(`target: ${externalUrl}${externalPid === undefined ? " (no --pid: CPU not reported)" : ` pid ${externalPid}`}`);
    } else {
      if (cpuProf) await mkdir(profileDir, { recursive: true });
      let cliEntry: string | undefined;
      if (runtime === "dist") {
        const t0 = performance.now();
        const b = await buildDist();
        cliEntry = b.cliEntry;
        log(`built the gateway with tsc into bench/.build in ${fmt((performance.now() - t0) / 1000, 1)} s`);
        if (b.diagnostics) log(`warning: tsc reported errors (emitted anyway):\n${b.diagnostics.split("\n").slice(0, 10).join("\n")}`);
      }
      gateway = await spawnGateway({
        token,
        cliEntry,
        nodeArgs: cpuProf ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
      });
      targets.push({ name: mainName, url: gateway.url, pid: gateway.pid });
      log(`target: clawgate via CLI (${runtime}) at ${gateway.url} pid ${gateway.pid}${cpuProf ? " (--cpu-prof)" : ""}`);
    }
    const main0 = targets[0] as Target;
    if (withBaseline) {
      let frames: CapturedFrames;
      try {
        frames = await captureFrames(main0.url, token, RPC_CLIENT, methods);
      } catch (err) {
        throw new Error(`could not capture frames from ${main0.url} for the baseline: ${(err as Error).message}`);
      }
      for (const [m, f] of Object.entries(frames.responses)) {
        if (!f.includes('"ok":true')) log(`warning: ${main0.name} answered ${m} with an error: ${f.slice(0, 200)}`);
      }
      baseline = await startBaseline(frames);
      targets.push({ name: "uws-baseline", url: baseline.url, pid: baseline.pid });
      log(
        `baseline: bare uWS at ${baseline.url} pid ${baseline.pid} (hello ${frames.hello.length} B; ` +
          `${Object.entries(frames.responses).map(([m, f]) => `${m} res ${f.length} B`).join(", ")})`,
      );
    }

    const results: ScenarioResult[] = [];
    for (const method of methods) {
      log(`\n[rpc ${method}]`);
      results.push(...(await runScenario("rpc", method, targets, (t) => rpcSetups(t, method))));
    }
    for (const mode of hsModes as ("token" | "device")[]) {
      log(`\n[handshake ${mode}]`);
      results.push(...(await runScenario("handshake", mode, targets, (t) => hsSetups(t, mode))));
    }

    if (gateway && cpuProf) {
      await gateway.stop();
      const path = await mainThreadProfile(profileDir, gateway.pid);
      if (path) {
        const prof = readCpuProfile(path);
        for (const r of results.filter((x) => x.target === mainName)) {
          profiles[`${r.kind} ${r.scenario}`] = summariseCpuProfile(prof, REPO_ROOT, 15, r.samples.map((x) => x.window));
        }
        log(`gateway CPU profile: ${path}`);
      } else {
        log(`warning: no main-thread CPU profile of pid ${gateway.pid} in ${profileDir}`);
      }
    }

    log("");
    log(machineHeader(machineInfo()).replace("machine:", "machine at end:"));
    const ratios = printTables(results, mainName);
    for (const [name, p] of Object.entries(profiles)) {
      log("");
      log(`gateway main thread, ${name} (measured windows only; ${fmt(p.idlePct, 0)}% idle): top self time`);
      log(formatTable(["function", "self ms", "% busy"], p.functions.map((r) => [r.name, fmt(r.selfMs), fmt(r.pct, 1)])));
      log(formatTable(["file", "self ms", "% busy"], p.files.slice(0, 8).map((r) => [r.name, fmt(r.selfMs), fmt(r.pct, 1)])));
    }
    log("");
    for (const n of notes.slice(1)) log(`note: ${n}`);
    const busy = results.filter((r) => (r.otherCores?.median ?? 0) > BUSY_MACHINE_CORES);
    if (busy.length > 0) {
      log(
        `warning: other processes used > ${BUSY_MACHINE_CORES} cores during ${busy.length}/${results.length} scenario(s) ` +
          `(median 'other cores' up to ${fmt(Math.max(...busy.map((r) => r.otherCores?.median ?? 0)), 2)}): throughput is capped by the ` +
          `shared machine; CPU per request/handshake is the more robust figure. Re-run on a quiet machine for throughput.`,
      );
    }

    const json = {
      bench: "ws-rpc",
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      notes,
      config: { quick, runtime: externalUrl ? "external" : runtime, runs, durationMs, warmupMs, conns, depth, hsConcurrency, hsClient: HS_CLIENT, devicesPerGen, generators: gensN, methods, handshakes: hsModes },
      targets,
      units: {
        perSecond: "completions per second",
        serverCpuPerUnit: "rpc: server CPU-seconds per 100k requests; handshake: server CPU-milliseconds per 1k handshakes",
        cores: "CPU-seconds per second",
      },
      results,
      ratios,
      ...(Object.keys(profiles).length > 0 ? { profiles } : {}),
    };
    await mkdir(join(outFile, ".."), { recursive: true });
    await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
    log(`\nJSON: ${outFile}`);

    const failed = results.filter((r) => r.errors > 0 || r.samples.some((s) => s.completed === 0));
    if (failed.length > 0) {
      for (const r of failed) log(`FAILED: ${r.kind} ${r.scenario} on ${r.target}: ${r.errors} errors, last: ${r.lastError ?? "no completions"}`);
      process.exitCode = 1;
    }
  } finally {
    await baseline?.stop();
    await gateway?.stop();
    await killAll();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench/ws-rpc failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void killAll(1000).finally(() => process.exit(1));
  },
);
