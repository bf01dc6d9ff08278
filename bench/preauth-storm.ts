/**
 * The pre-auth budget under load, against the production gateway (CLI child, default budget:
 * `gateway.preAuth.maxPerIp` 1024, `maxTotal` 4096):
 *
 *   node --import tsx bench/preauth-storm.ts [--quick] [--storm 15000] [--inflight 500] [--flood 20000]
 *       [--runs 3] [--only storm,flood,partial] [--runtime dist|tsx] [--cpu-prof] [--compare CLI]
 *       [--flood-connectors 64]
 *
 *   1. reconnect storm: `--storm` device-signed handshakes (a fresh device each: silent loopback
 *      pairing included) through 127.0.0.1 with `--inflight` in flight, from 4 load-generator
 *      processes → refusals (any handshake that did not reach hello-ok) must be 0;
 *   2. flood: `--flood` sockets that upgrade and never send `connect`, from several child
 *      processes (the box caps open files at 20,000 per process; the gateway's limit is raised
 *      with prlimit), with a short handshake deadline (2 s) → gateway RSS before/peak, every
 *      flood socket closed by the server (1000 = deadline, 1013 = evicted by the budget), and the
 *      `health` RPC p50/p99 of an authenticated client without vs during the flood (≤ 2×);
 *   3. partial frames: 256 pending sockets each holding one unfinished frame just under the
 *      transport ceiling → gateway RSS growth (bounded by 256 × ceiling).
 *
 * Writes bench/results/preauth-storm(.quick).json. Exits 1 when a target is missed.
 */
import { execFileSync } from "node:child_process";
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { loadavg, setPriority } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { buildDist } from "./lib/build-dist.js";
import { REPO_ROOT, forkTs, guardProcess, killAll, sleep, spawnGateway, type SpawnedGateway } from "./lib/children.js";
import { LoadGenerators, split } from "./lib/load-controller.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { GatewayConnection, parseWsUrl, upgradeRequest } from "./lib/raw-ws.js";
import { tokenConnectFrame } from "./lib/connect-frames.js";
import { maskedText, OP_TEXT } from "../test/helpers/ws-frames.js";
import { fmt, formatTable } from "./lib/stats.js";
import { processCpuSeconds } from "./lib/proc-stat.js";
import { mainThreadProfile, monotonicMicros, readCpuProfile, summariseCpuProfile, type TimeWindow } from "./lib/cpu-profile.js";

const FLOOD_CHILD = process.env.PREAUTH_FLOOD_CHILD === "1";
const HANDSHAKE_DEADLINE_MS = 2000;
const TOKEN = "bench-preauth-token-0123456789abcdef";
/**
 * Stated bound on the gateway's RSS growth during the flood (peak − before). The budget keeps
 * at most `maxTotal` (4096) flood sockets open at once; each costs the gateway its uWS socket,
 * its `Connection` and its place in the budget and the deadline queue.
 */
const FLOOD_RSS_BOUND_MIB = 64;
/** Scheduling priority (nice) of the flood generators: the lowest. */
const FLOOD_NICE = 19;

/** Counts of one flood child. */
interface FloodCounts {
  opened: number;
  failed: number;
  closedByServer: number;
  codes: Record<string, number>;
  /** Longest time from upgrade to the server's close frame (ms). */
  maxLifeMs: number;
}

type FloodMsg = { type: "flood"; port: number; count: number; connectors: number } | { type: "counts" } | { type: "exit" };

/** Child: opens `count` sockets that upgrade and then stay silent; reports close frames. */
function floodChild(): void {
  const counts: FloodCounts = { opened: 0, failed: 0, closedByServer: 0, codes: {}, maxLifeMs: 0 };
  const sockets: Socket[] = [];
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready" });
  process.on("message", (m: FloodMsg) => {
    if (m.type === "counts") process.send?.({ type: "counts", counts });
    else if (m.type === "exit") {
      for (const s of sockets) s.destroy();
      process.exit(0);
    } else if (m.type === "flood") {
      const upgrade = upgradeRequest(parseWsUrl(`ws://127.0.0.1:${m.port}/`));
      let started = 0;
      const openOne = (): void => {
        started++;
        const s = netConnect({ host: "127.0.0.1", port: m.port });
        sockets.push(s);
        let upgradedAt = 0;
        let buf = Buffer.alloc(0);
        s.on("connect", () => s.write(upgrade));
        s.on("error", () => undefined);
        s.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (upgradedAt === 0) {
            const end = buf.indexOf("\r\n\r\n");
            if (end < 0) return;
            upgradedAt = performance.now();
            counts.opened++;
            buf = buf.subarray(end + 4);
            if (started < m.count) openOne();
          }
          // Server frames are small and unmasked: find a close frame (0x88).
          for (;;) {
            if (buf.length < 2) return;
            const len = buf[1]! & 0x7f;
            const off = len === 126 ? 4 : 2;
            if (buf.length < off + (len === 126 ? buf.readUInt16BE(2) : len)) return;
            const size = len === 126 ? buf.readUInt16BE(2) : len;
            if ((buf[0]! & 0x0f) === 0x8) {
              const code = size >= 2 ? buf.readUInt16BE(off) : 1005;
              counts.codes[code] = (counts.codes[code] ?? 0) + 1;
              counts.closedByServer++;
              counts.maxLifeMs = Math.max(counts.maxLifeMs, performance.now() - upgradedAt);
              s.destroy();
              return;
            }
            buf = buf.subarray(off + size);
          }
        });
        s.on("close", () => {
          if (upgradedAt === 0) {
            counts.failed++;
            if (started < m.count) openOne();
          }
        });
      };
      // `connectors` at once, each opening its next socket once the previous one upgraded.
      for (let i = 0; i < Math.min(m.connectors, m.count); i++) openOne();
    }
  });
}

async function rssKiB(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
}

/** Sequential `health` round trips on one authenticated connection for `ms`; latencies in ms. */
async function rpcLatencies(conn: GatewayConnection, ms: number): Promise<number[]> {
  const out: number[] = [];
  let waiter: (() => void) | null = null;
  let expect = "";
  // Only the response to the request in flight counts (events such as `tick` are skipped).
  conn.onFrame = (op, _fin, data, len) => {
    if (op === OP_TEXT && waiter && data.subarray(0, len).includes(expect)) {
      const w = waiter;
      waiter = null;
      w();
    }
  };
  const end = performance.now() + ms;
  let id = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    const done = new Promise<void>((r) => (waiter = r));
    expect = `"id":"h${id}"`;
    conn.socket.write(maskedText(`{"type":"req","id":"h${id++}","method":"health"}`));
    await done;
    out.push(performance.now() - t0);
  }
  return out;
}

function pct(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? Number.NaN;
}

async function storm(gw: SpawnedGateway, total: number, inflight: number): Promise<{ completed: number; refused: number; seconds: number; lastError?: string }> {
  const gens = 4;
  const parts = split(inflight, gens);
  const devices = split(total, gens);
  const lg = await LoadGenerators.start(
    parts.map((concurrency, i) => ({
      type: "handshake-setup" as const,
      url: gw.url,
      token: TOKEN,
      client: { id: "node-host", mode: "node" },
      concurrency,
      auth: "device" as const,
      devices: devices[i] ?? 1,
      timeoutMs: 30_000,
    })),
    120_000,
  );
  const t0 = performance.now();
  lg.run();
  let m = await lg.mark();
  while (m.completed + m.errors < total) {
    await sleep(100);
    m = await lg.mark();
  }
  const stopped = await lg.stop(60_000);
  const seconds = (performance.now() - t0) / 1000;
  await lg.close();
  return { completed: stopped.completed, refused: stopped.errors, seconds, lastError: stopped.lastError };
}

async function flood(gw: SpawnedGateway, total: number): Promise<Record<string, unknown>> {
  const target = parseWsUrl(gw.url);
  const rpc = await GatewayConnection.open(target, { upgrade: upgradeRequest(target), connectFrame: tokenConnectFrame({ id: "cli", mode: "cli" }, TOKEN), timeoutMs: 10_000 });
  // Long windows: on a shared box the p99 of a few hundred samples is mostly other processes.
  const windowMs = quick ? 1500 : 8000;
  // The flood children start (and finish loading) before the first window, so both windows
  // share the box with the same processes.
  const children = split(total, Math.ceil(total / 5000)).map((count) => ({ count, child: forkTs(fileURLToPath(import.meta.url), { PREAUTH_FLOOD_CHILD: "1" }) }));
  // The generators share the 2 cores with the gateway and the RPC client: at the lowest
  // priority they get only the CPU the gateway leaves, so the RPC figures show what the
  // gateway's own handling of the flood costs, not the generators' share of the machine.
  for (const c of children) if (c.child.pid !== undefined) setPriority(c.child.pid, FLOOD_NICE);
  await Promise.all(children.map((c) => new Promise<void>((r) => c.child.once("message", () => r()))));
  const idle = await rpcLatencies(rpc, windowMs);
  const rssBefore = await rssKiB(gw.pid);
  let peak = rssBefore;
  const sampler = setInterval(() => void rssKiB(gw.pid).then((r) => (peak = Math.max(peak, r))), 50);
  const t0 = performance.now();
  const startUs = monotonicMicros();
  const cpu0 = processCpuSeconds(gw.pid) ?? Number.NaN;
  for (const c of children) c.child.send({ type: "flood", port: gw.port, count: c.count, connectors: floodConnectors } satisfies FloodMsg);
  const during = await rpcLatencies(rpc, windowMs);
  const ask = (): Promise<FloodCounts[]> =>
    Promise.all(
      children.map(
        (c) =>
          new Promise<FloodCounts>((res) => {
            c.child.once("message", (m: { counts: FloodCounts }) => res(m.counts));
            c.child.send({ type: "counts" } satisfies FloodMsg);
          }),
      ),
    );
  let counts = await ask();
  const sum = (k: "opened" | "failed" | "closedByServer"): number => counts.reduce((a, c) => a + c[k], 0);
  const until = performance.now() + 60_000;
  while ((sum("opened") + sum("failed") < total || sum("closedByServer") < sum("opened")) && performance.now() < until) {
    await sleep(200);
    counts = await ask();
  }
  const floodSeconds = (performance.now() - t0) / 1000;
  const window: TimeWindow = { startUs, endUs: monotonicMicros() };
  // CPU time does not depend on how busy the box is: the steadier measure of the gateway's own cost.
  const gatewayCpuSeconds = (processCpuSeconds(gw.pid) ?? Number.NaN) - cpu0;
  clearInterval(sampler);
  const codes: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c.codes)) codes[k] = (codes[k] ?? 0) + v;
  for (const c of children) c.child.send({ type: "exit" } satisfies FloodMsg);
  await rpc.close();
  return {
    opened: sum("opened"),
    failedToOpen: sum("failed"),
    closedByServer: sum("closedByServer"),
    codes,
    maxLifeMs: Math.max(...counts.map((c) => c.maxLifeMs)),
    floodSeconds,
    window,
    gatewayCpuSeconds,
    cpuUsPerSocket: (gatewayCpuSeconds * 1e6) / Math.max(1, sum("opened")),
    rssBeforeMiB: rssBefore / 1024,
    rssPeakMiB: peak / 1024,
    rpcIdle: { n: idle.length, p50: pct(idle, 50), p99: pct(idle, 99) },
    rpcFlood: { n: during.length, p50: pct(during, 50), p99: pct(during, 99) },
  };
}

async function partialFrames(gw: SpawnedGateway, n: number, ceiling: number): Promise<Record<string, unknown>> {
  const before = await rssKiB(gw.pid);
  const target = parseWsUrl(gw.url);
  const sockets: Socket[] = [];
  let cut = 0;
  for (let i = 0; i < n; i++) {
    const s = netConnect({ host: "127.0.0.1", port: gw.port });
    sockets.push(s);
    s.on("error", () => undefined);
    s.on("close", () => cut++);
    await new Promise<void>((r) => {
      s.once("connect", () => s.write(upgradeRequest(target)));
      s.once("data", () => r());
    });
    const len = ceiling - 1024;
    const h = Buffer.alloc(14);
    h[0] = 0x81;
    h[1] = 0x80 | 127;
    h.writeBigUInt64BE(BigInt(len), 2);
    s.write(h);
    s.write(Buffer.alloc(len - 1));
  }
  await sleep(1000);
  const after = await rssKiB(gw.pid);
  for (const s of sockets) s.destroy();
  return { sockets: n, ceilingKiB: ceiling / 1024, cutBeforeDeadline: cut, rssBeforeMiB: before / 1024, rssAfterMiB: after / 1024, growthMiB: (after - before) / 1024, boundMiB: (n * ceiling) / 2 ** 20 };
}

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const cpuProf = args.switches.has("cpu-prof");
/** Sockets each flood process keeps upgrading at once (4 processes for 20,000). */
const floodConnectors = intArg(args, "flood-connectors", 64);
const PROFILE_DIR = join(REPO_ROOT, "bench", "results", "profiles");

/** Flood result fields the summary reads. */
interface FloodResult {
  opened: number;
  closedByServer: number;
  codes: Record<string, number>;
  maxLifeMs: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rpcIdle: { p50: number; p99: number };
  rpcFlood: { p50: number; p99: number };
  window: TimeWindow;
  /** Gateway CPU time (all threads, user + system; answering the RPC client included) from the flood's start until its last socket closed, per opened flood socket. */
  cpuUsPerSocket: number;
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const stormN = intArg(args, "storm", quick ? 3000 : 15_000);
  const inflight = intArg(args, "inflight", 500);
  const floodN = intArg(args, "flood", quick ? 5000 : 20_000);
  const floodRuns = Math.max(1, intArg(args, "runs", quick ? 1 : 3));
  const only = new Set(listArg(args, "only", ["storm", "flood", "partial"]));
  const runtime = args.values.get("runtime") ?? "dist";
  if (runtime !== "dist" && runtime !== "tsx") {
    console.error(`--runtime must be dist or tsx, got ${runtime}`);
    process.exit(2);
  }
  guardProcess((runtime === "dist" ? 3 : 0) * 60_000 + 15 * 60_000 + floodRuns * 90_000);
  const machine = machineInfo();
  console.log(machineHeader(machine));
  const cliEntry = runtime === "dist" ? (await buildDist()).cliEntry : undefined;
  console.log(`gateway runtime: ${runtime}${cliEntry ? ` (${cliEntry})` : " (src through tsx)"}`);
  const rows: string[][] = [];
  const failures: string[] = [];
  let stormResult: Awaited<ReturnType<typeof storm>> | null = null;
  if (only.has("storm")) {
    // The storm runs against the defaults (10 s handshake deadline): on a saturated box a
    // handshake waits in the event loop for (in flight ÷ handshakes/s), and a short deadline would
    // close legitimate clients.
    const stormGw = await spawnGateway({ token: TOKEN, cliEntry });
    stormResult = await storm(stormGw, stormN, inflight);
    await stormGw.stop();
    console.log(`storm: ${fmt(stormResult.completed)} handshakes in ${fmt(stormResult.seconds, 1)} s, ${fmt(stormResult.refused)} refused${stormResult.lastError ? ` (last: ${stormResult.lastError})` : ""}`);
    rows.push(["reconnect storm", `${fmt(stormResult.completed)} handshakes, ${inflight} in flight`, `${fmt(stormResult.refused)} refused`, `${fmt(stormResult.completed / stormResult.seconds)} /s`]);
    if (stormResult.refused > 0) failures.push(`storm: ${stormResult.refused} refused`);
  }
  // --compare CLI: the flood runs alternate between this tree's gateway and another compiled
  // CLI (e.g. a build of main), so drift on a shared machine hits both alike.
  const compare = args.values.get("compare");
  const targets = [{ label: "this tree", cliEntry }, ...(compare ? [{ label: `compare (${compare})`, cliEntry: compare }] : [])];
  const floods = new Map<string, FloodResult[]>(targets.map((t) => [t.label, []]));
  let partial: Awaited<ReturnType<typeof partialFrames>> | null = null;
  if (only.has("flood") || only.has("partial")) {
    for (let run = 0; run < (only.has("flood") ? floodRuns : 1); run++) {
      for (const target of targets) {
        const mine = floods.get(target.label)!;
        // A fresh gateway per run: each flood starts from the same state.
        // --cpu-prof: the first run's gateway is profiled; its flood window is summarised below.
        const profiled = cpuProf && run === 0;
        const gw = await spawnGateway({ token: TOKEN, cliEntry: target.cliEntry, nodeArgs: profiled ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : [], config: { gateway: { preAuth: { handshakeTimeoutMs: HANDSHAKE_DEADLINE_MS } } } });
        // The gateway holds the flood: lift its open-file limit above this box's 20,000 where allowed
        // (the budget keeps at most maxTotal flood sockets open at once, so 20,000 is enough anyway).
        try {
          execFileSync("prlimit", ["--pid", String(gw.pid), "--nofile=100000:100000"], { stdio: "ignore" });
        } catch {
          if (run === 0) console.log("note: could not raise the gateway's open-file limit (prlimit refused); keeping the default");
        }
        if (only.has("flood")) {
          const f = (await flood(gw, floodN)) as unknown as FloodResult;
          mine.push(f);
          console.log(
            `flood run ${run + 1}/${floodRuns} [${target.label}]: p99 ${fmt(f.rpcIdle.p99, 2)} → ${fmt(f.rpcFlood.p99, 2)} ms (×${fmt(f.rpcFlood.p99 / f.rpcIdle.p99, 2)}), ` +
              `RSS +${fmt(f.rssPeakMiB - f.rssBeforeMiB, 1)} MiB, ${fmt(f.closedByServer)}/${fmt(f.opened)} closed by server, ${fmt(f.cpuUsPerSocket)} µs CPU/socket, load ${loadavg()[0]!.toFixed(1)}`,
          );
        }
        if (only.has("partial") && run === 0 && target === targets[0]) partial = await partialFrames(gw, quick ? 64 : 256, 524_288 + 64 * 1024);
        await gw.stop();
        const f = mine[mine.length - 1];
        if (profiled && f) {
          const path = await mainThreadProfile(PROFILE_DIR, gw.pid);
          if (path) {
            const sum = summariseCpuProfile(readCpuProfile(path), REPO_ROOT, 20, [f.window]);
            console.log(`[${target.label}] gateway main thread during the flood (${path}): ${fmt(sum.totalMs)} ms sampled, ${fmt(sum.idlePct, 1)} % idle`);
            console.log(formatTable(["function", "self ms", "% busy"], sum.functions.map((r) => [r.name.length > 100 ? `${r.name.slice(0, 97)}...` : r.name, fmt(r.selfMs, 1), fmt(r.pct, 1)])));
            console.log(formatTable(["file", "self ms", "% busy"], sum.files.map((r) => [r.name, fmt(r.selfMs, 1), fmt(r.pct, 1)])));
          } else console.log(`warning: no main-thread CPU profile of pid ${gw.pid} in ${PROFILE_DIR}`);
        }
      }
    }
  }
  for (const [label, runs] of floods) {
    if (runs.length === 0) continue;
    const tag = targets.length > 1 ? ` [${label}]` : "";
    const ratios = runs.map((f) => f.rpcFlood.p99 / f.rpcIdle.p99);
    const growth = runs.map((f) => f.rssPeakMiB - f.rssBeforeMiB);
    const opened = runs.reduce((a, f) => a + f.opened, 0);
    const closed = runs.reduce((a, f) => a + f.closedByServer, 0);
    const codes: Record<string, number> = {};
    for (const f of runs) for (const [k, v] of Object.entries(f.codes)) codes[k] = (codes[k] ?? 0) + v;
    const range = (xs: number[], d: number): string => (xs.length > 1 ? ` (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})` : "");
    const idle99 = runs.map((f) => f.rpcIdle.p99);
    const flood99 = runs.map((f) => f.rpcFlood.p99);
    rows.push(
      [`flood sockets${tag}`, `${fmt(opened)} opened (${runs.length} × ${fmt(floodN)})`, `${fmt(closed)} closed by server ${JSON.stringify(codes)}`, `longest life ${fmt(Math.max(...runs.map((f) => f.maxLifeMs)))} ms`],
      [`gateway CPU${tag}`, "per flood socket (all threads)", `${fmt(median(runs.map((f) => f.cpuUsPerSocket)))} µs${range(runs.map((f) => f.cpuUsPerSocket), 0)}`, ""],
      [`flood RSS growth${tag}`, `${fmt(median(runs.map((f) => f.rssBeforeMiB)), 1)} MiB before`, `+${fmt(median(growth), 1)} MiB peak${range(growth, 1)}`, `bound ${fmt(FLOOD_RSS_BOUND_MIB)} MiB`],
      [
        `health RPC p50/p99${tag}`,
        `${fmt(median(runs.map((f) => f.rpcIdle.p50)), 2)} / ${fmt(median(idle99), 2)} ms idle${range(idle99, 2)}`,
        `${fmt(median(runs.map((f) => f.rpcFlood.p50)), 2)} / ${fmt(median(flood99), 2)} ms flood${range(flood99, 2)}`,
        `p99 ×${fmt(median(ratios), 2)}${range(ratios, 2)}`,
      ],
    );
    // Targets apply to this tree's gateway only; a compared build is for reference.
    if (label !== targets[0]!.label) continue;
    if (closed < opened) failures.push(`flood: ${opened - closed} sockets not closed by the server`);
    if (median(ratios) > 2) failures.push(`flood: RPC p99 moved ×${fmt(median(ratios), 2)} (median of ${runs.length}; > 2×)`);
    if (median(growth) > FLOOD_RSS_BOUND_MIB) failures.push(`flood: RSS grew ${fmt(median(growth), 1)} MiB (> ${FLOOD_RSS_BOUND_MIB} MiB)`);
  }
  if (partial) rows.push(["partial frames", `${partial.sockets} × ${fmt(partial.ceilingKiB as number)} KiB`, `+${fmt(partial.growthMiB as number, 1)} MiB RSS`, `bound ${fmt(partial.boundMiB as number)} MiB`]);
  console.log(formatTable(["scenario", "load", "result", "figure"], rows));
  const out = join(REPO_ROOT, "bench", "results", quick ? "preauth-storm.quick.json" : "preauth-storm.json");
  await mkdir(join(REPO_ROOT, "bench", "results"), { recursive: true });
  await writeFile(out, JSON.stringify({ machine, runtime, storm: stormResult, flood: Object.fromEntries(floods), floodRssBoundMiB: FLOOD_RSS_BOUND_MIB, partial, failures }, null, 2));
  await killAll();
  if (failures.length > 0) {
    console.error(`targets missed: ${failures.join("; ")}`);
    process.exit(1);
  }
}

if (FLOOD_CHILD) floodChild();
else void main();
