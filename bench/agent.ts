/**
 * Agent runs: the worker plane (piscina pool, events over SharedArrayBuffer rings) against a
 * baseline that runs the same loop (`runSessionTurn`, same SDK, same transcripts) on the
 * gateway's main thread — in one run, each plane in a fresh gateway process.
 *
 *   npx tsx bench/agent.ts [--quick] [--runs N] [--slow N] [--cpu-prof]
 *
 * `--cpu-prof` writes V8 CPU profiles of every gateway thread to bench/results/agent-prof/.
 * Environment: AGENT_BENCH_THREADS (pool threads, default the gateway's: cores − 1, 1 to 4),
 * AGENT_BENCH_NICE (their nice value, default the gateway's), AGENT_BENCH_YOUNG_MB (their
 * young-generation cap, default the gateway's), AGENT_BENCH_NODE_ARGS (extra
 * node flags of the gateway child, e.g. `--perf-basic-prof` for `perf`).
 *
 * Process layout: the zero-delay fake provider (OpenAI chat-completions SSE, chunk timestamps
 * embedded in the text) runs in its own process (lib/agent-provider-child.ts), this driver
 * is the WebSocket client; the gateway runs in
 * a child (lib/agent-gateway-child.ts, run from the tsc build on plain node like `npm start`), whose CPU is read from procfs and which reports its own main-thread
 * event-loop delay and RSS over IPC.
 *
 * Per plane:
 *   runs/s, CPU ms/run   N runs (5 chunks, no delay), 50 in flight, one session each
 *   chunk→frame p50/p99  provider writes a chunk → the client receives the `agent` event
 *                        carrying it, while 50 runs stream (60 chunks 20 ms apart, started
 *                        8 ms apart; chunks written while all 50 stream); and the burst
 *                        case: 50 runs (20 chunks) started in the same instant
 *   ELD p99              gateway main-thread event-loop delay while 200 runs stream
 *   RSS/run              RSS growth with M concurrent slow runs (a chunk every 100 ms),
 *                        sampled once every run streamed its first chunk, after a GC in
 *                        every isolate; the second of two rounds (the first grows the heaps)
 * Writes bench/results/agent.json. Not part of `npm test`.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { join } from "node:path";
import WebSocket from "ws";
import type { FromAgentChild, ToAgentChild } from "./lib/agent-child-protocol.js";
import { intArg, parseArgs } from "./lib/args.js";
import { buildDist, builtChild } from "./lib/build-dist.js";
import { guardProcess, REPO_ROOT, track } from "./lib/children.js";
import { machineHeader } from "./lib/machine.js";
import { processCpuSeconds, threadCpuByName } from "./lib/proc-stat.js";
import { fmt, formatTable } from "./lib/stats.js";

type Plane = "worker" | "main";

const TOKEN = "bench-token-0123456789abcdef";
/** CLOCK_MONOTONIC in ms: the clock of the provider process's chunk stamps. */
const now = (): number => Number(process.hrtime.bigint()) / 1e6;


// ───────────────────────────── driver ─────────────────────────────

/** Starts the fake provider process (lib/agent-provider-child.ts). */
async function startProvider(): Promise<{ url: string; close: () => void }> {
  const proc = track(fork(builtChild("agent-provider-child"), [], { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const url = await new Promise<string>((resolve, reject) => {
    proc.once("message", (m: { url: string }) => resolve(m.url));
    proc.once("exit", (code) => reject(new Error(`provider exited ${code}`)));
  });
  return { url, close: () => proc.kill() };
}

interface Child {
  proc: ChildProcess;
  port: number;
  call(m: ToAgentChild): Promise<FromAgentChild>;
}

async function startChild(plane: Plane, cpuProf: boolean): Promise<Child> {
  const prof = cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${join(REPO_ROOT, "bench", "results", "agent-prof")}`] : [];
  const proc = track(
    fork(builtChild("agent-gateway-child"), [], { cwd: REPO_ROOT, execArgv: ["--expose-gc", ...prof, ...(process.env.AGENT_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [])], env: { ...process.env, AGENT_BENCH_PLANE: plane, AGENT_BENCH_TOKEN: TOKEN }, stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    proc.once("message", (m: FromAgentChild) => ("port" in m ? resolve(m.port) : reject(new Error("bad hello"))));
    proc.once("exit", (code) => reject(new Error(`gateway child exited ${code}`)));
  });
  proc.on("exit", (code, sig) => process.stderr.write(`[${plane}] gateway child exited (${code ?? sig})\n`));
  let chain = Promise.resolve<FromAgentChild>({ ok: true });
  const call = (m: ToAgentChild): Promise<FromAgentChild> =>
    (chain = chain.then(
      () =>
        new Promise<FromAgentChild>((resolve) => {
          proc.once("message", resolve);
          proc.send(m);
        }),
    ));
  return { proc, port, call };
}

/** The first `"name":"…"` string value in a JSON text (the bench's values have no escapes). */
function stringField(text: string, name: string): string {
  const key = `"${name}":"`;
  const from = text.indexOf(key);
  if (from < 0) return "";
  const start = from + key.length;
  return text.slice(start, text.indexOf('"', start));
}

/** One operator connection: sends `agent` requests and watches every event. */
class Client {
  readonly #ws: WebSocket;
  readonly #finals = new Map<string, () => void>();
  onAssistant: ((runId: string, delta: string, at: number) => void) | null = null;
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    // The client reads thousands of frames a second on the same 2 cores as the gateway: it
    // parses only what it needs (an assistant event's runId and delta; `res` frames), so
    // its own event-loop delay adds as little as it can to the measured latency.
    ws.on("message", (data) => {
      const at = now();
      const text = data.toString();
      if (text.includes('"stream":"assistant"')) {
        if (this.onAssistant) this.onAssistant(stringField(text, "runId"), stringField(text, "delta"), at);
        return;
      }
      if (!text.includes('"type":"res"')) return;
      const f = JSON.parse(text) as { type: string; id?: string; ok?: boolean; payload?: { status?: string } };
      if (f.type === "res" && f.id !== undefined && f.payload?.status !== "accepted") {
        const done = this.#finals.get(f.id);
        this.#finals.delete(f.id);
        if (f.ok !== true) process.stderr.write(`run failed: ${JSON.stringify(f).slice(0, 300)}\n`);
        done?.();
      }
    });
  }

  static async connect(port: number): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once("error", reject);
      ws.on("message", function onMsg(data) {
        const f = JSON.parse(data.toString()) as { type: string; event?: string; id?: string; ok?: boolean };
        if (f.type === "event" && f.event === "connect.challenge") {
          ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: { minProtocol: 3, maxProtocol: 3, client: { id: "test", version: "1", platform: "linux", mode: "test" }, auth: { token: TOKEN } } }));
        } else if (f.type === "res" && f.id === "c") {
          ws.off("message", onMsg);
          if (f.ok) resolve();
          else reject(new Error(`connect failed: ${data.toString()}`));
        }
      });
    });
    return new Client(ws);
  }

  /** Runs one turn on its own session; resolves at the final `res`. */
  run(runId: string): Promise<void> {
    const id = `a${++this.#id}`;
    return new Promise((resolve) => {
      this.#finals.set(id, resolve);
      this.#ws.send(JSON.stringify({ type: "req", id, method: "agent", params: { message: "go", sessionKey: `agent:main:${runId}`, idempotencyKey: runId } }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

async function pooled(n: number, inFlight: number, start: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, async () => {
    while (next < n) await start(next++);
  }));
}

const pct = (xs: number[], p: number): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
};

interface PlaneResult {
  runsPerSec: number;
  cpuMsPerRun: number;
  latP50: number;
  latP99: number;
  latSamples: number;
  latGatewayEldP99: number;
  latDriverEldP99: number;
  latDriverEldMax: number;
  burstP50: number;
  burstP99: number;
  eldP99: number;
  eldMax: number;
  rssPerRunKiB: number;
  rssFirstRoundKiB: number;
  slowRuns: number;
  /** CPU ms per run by thread name over the throughput window. */
  threadMs: Record<string, number>;
}

/**
 * Starts `n` runs `spacingMs` apart and records, per streamed chunk, provider write → client
 * receipt. `all50`: only the chunks written while every run was streaming (after the last
 * run's first chunk, before the first run's last one); `all`: every chunk.
 */
async function latencyRound(client: Client, tag: string, n: number, spacingMs: number): Promise<{ all: number[]; all50: number[] }> {
  const chunks = new Map<string, { written: number; lat: number }[]>();
  client.onAssistant = (id, delta, at) => {
    let list = chunks.get(id);
    if (list === undefined) chunks.set(id, (list = []));
    for (const m of delta.matchAll(/<(\d+\.\d+)>/g)) list.push({ written: Number(m[1]), lat: at - Number(m[1]) });
  };
  await Promise.all(
    Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => setTimeout(() => void client.run(`${tag}-${i}`).then(resolve), i * spacingMs))),
  );
  client.onAssistant = null;
  const runs = [...chunks.values()].filter((l) => l.length > 0);
  const from = Math.max(...runs.map((l) => l[0]!.written));
  const to = Math.min(...runs.map((l) => l[l.length - 1]!.written));
  const all = runs.flat();
  return { all: all.map((c) => c.lat), all50: runs.length === n ? all.filter((c) => c.written >= from && c.written <= to).map((c) => c.lat) : [] };
}

/** Holds `n` slow runs at once; resolves with the RSS growth (after a GC) once all stream, after they end. */
async function holdSlowRuns(client: Client, child: Child, tag: string, n: number, step: (what: string) => void): Promise<number> {
  const rss0 = ((await child.call({ cmd: "rss" })) as { rss: number }).rss;
  const seen = new Set<string>();
  let allStreaming: () => void = () => undefined;
  const streaming = new Promise<void>((r) => (allStreaming = r));
  client.onAssistant = (id) => {
    seen.add(id);
    if (seen.size >= n) allStreaming();
  };
  const runs = pooled(n, n, (i) => client.run(`${tag}-${i}`));
  const progress = setInterval(() => step(`streaming ${seen.size}/${n}`), 2000);
  await streaming;
  clearInterval(progress);
  const rss1 = ((await child.call({ cmd: "rss" })) as { rss: number }).rss;
  await runs;
  client.onAssistant = null;
  return rss1 - rss0;
}

async function measurePlane(plane: Plane, providerUrl: string, o: { runs: number; slow: number; cpuProf: boolean }): Promise<PlaneResult> {
  const child = await startChild(plane, o.cpuProf);
  const client = await Client.connect(child.port);
  const config = (model: string): Promise<FromAgentChild> => child.call({ cmd: "config", providerUrl, model, maxConcurrent: 4096 });
  let tag = 0;
  const batch = async (n: number, inFlight: number): Promise<void> => {
    const p = `${plane}-${++tag}`;
    await pooled(n, inFlight, (i) => client.run(`${p}-${i}`));
  };
  const step = (what: string): void => void process.stderr.write(`[${plane}] ${what}\n`);
  step("warm-up");
  // Warm-up: threads, SDK import, JIT.
  await config("b-5-0");
  await batch(Math.min(100, o.runs), 50);

  step("throughput");
  const threads0 = threadCpuByName(child.proc.pid!);
  const cpu0 = processCpuSeconds(child.proc.pid!) ?? Number.NaN;
  const t0 = performance.now();
  await batch(o.runs, 50);
  const wall = (performance.now() - t0) / 1000;
  const cpu = (processCpuSeconds(child.proc.pid!) ?? Number.NaN) - cpu0;
  const threadMs = new Map([...threadCpuByName(child.proc.pid!)].map(([name, s]) => [name, ((s - (threads0.get(name) ?? 0)) * 1000) / o.runs]));

  step("latency");
  // Steady state: 50 runs streaming at once (60 chunks 20 ms apart), started 8 ms apart as
  // independent clients' runs would be; only chunks written while all 50 stream count.
  await config("b-60-20");
  const dEld = monitorEventLoopDelay({ resolution: 1 });
  dEld.enable();
  await child.call({ cmd: "eld-start" });
  const steady = await latencyRound(client, `${plane}-lat`, 50, 8);
  dEld.disable();
  const gEld = (await child.call({ cmd: "eld-stop" })) as { eld: { p99: number; max: number } };
  const driverEld = { p99: dEld.percentile(99) / 1e6, max: dEld.max / 1e6 };
  // Burst: 50 runs started in the same instant (their start-up work queues up together).
  await config("b-20-20");
  const burst = await latencyRound(client, `${plane}-burst`, 50, 0);

  step("event-loop delay");
  await child.call({ cmd: "eld-start" });
  await batch(200, 200);
  const eld = (await child.call({ cmd: "eld-stop" })) as { eld: { p99: number; max: number } };

  step("slow runs");
  await config("b-12-100");
  // Two rounds: in the first the heaps (one per thread), socket pools and allocator arenas
  // grow to their working size; the second shows what holding the runs costs at that size.
  const cold = await holdSlowRuns(client, child, `${plane}-slow1`, o.slow, step);
  const warm = await holdSlowRuns(client, child, `${plane}-slow2`, o.slow, step);
  client.onAssistant = null;
  client.close();
  const exited = new Promise((r) => child.proc.once("exit", r));
  child.proc.send({ cmd: "exit" } satisfies ToAgentChild);
  await exited;
  return {
    runsPerSec: o.runs / wall,
    cpuMsPerRun: (cpu * 1000) / o.runs,
    latP50: pct(steady.all50, 50),
    latP99: pct(steady.all50, 99),
    latSamples: steady.all50.length,
    latGatewayEldP99: gEld.eld.p99,
    latDriverEldP99: driverEld.p99,
    latDriverEldMax: driverEld.max,
    burstP50: pct(burst.all, 50),
    burstP99: pct(burst.all, 99),
    eldP99: eld.eld.p99,
    eldMax: eld.eld.max,
    rssPerRunKiB: warm / 1024 / o.slow,
    rssFirstRoundKiB: cold / 1024 / o.slow,
    slowRuns: o.slow,
    threadMs: Object.fromEntries([...threadMs].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1])),
  };
}

async function runDriver(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.switches.has("quick");
  const runs = intArg(args, "runs", quick ? 300 : 2000);
  const slow = intArg(args, "slow", quick ? 300 : 1000);
  const cpuProf = args.switches.has("cpu-prof");
  guardProcess((quick ? 300 : 1200) * 1000);
  process.stdout.write(`${machineHeader()}\nagent bench: ${runs} runs, ${slow} slow runs${quick ? " (quick)" : ""}\n`);
  const { diagnostics } = await buildDist();
  if (diagnostics !== "") process.stderr.write(`warning: tsc reported errors (emitted anyway):\n${diagnostics.slice(0, 2000)}\n`);
  const provider = await startProvider();
  const results: Record<Plane, PlaneResult> = { worker: await measurePlane("worker", provider.url, { runs, slow, cpuProf }), main: await measurePlane("main", provider.url, { runs, slow, cpuProf }) };
  provider.close();
  const row = (name: string, get: (r: PlaneResult) => number, digits: number): string[] => [name, fmt(get(results.worker), digits), fmt(get(results.main), digits)];
  process.stdout.write(
    `${formatTable(
      ["metric", "worker plane", "main-thread baseline"],
      [
        row("runs/s", (r) => r.runsPerSec, 0),
        row("CPU ms/run", (r) => r.cpuMsPerRun, 2),
        row("chunk→frame p50 ms (50 streaming)", (r) => r.latP50, 2),
        row("chunk→frame p99 ms (50 streaming)", (r) => r.latP99, 2),
        row("  chunks counted", (r) => r.latSamples, 0),
        row("  gateway main ELD p99 ms meanwhile", (r) => r.latGatewayEldP99, 2),
        row("  bench driver ELD p99 ms", (r) => r.latDriverEldP99, 2),
        row("  bench driver ELD max ms", (r) => r.latDriverEldMax, 2),
        row("chunk→frame p50 ms (50 start at once)", (r) => r.burstP50, 2),
        row("chunk→frame p99 ms (50 start at once)", (r) => r.burstP99, 2),
        row("ELD p99 ms (200 streaming)", (r) => r.eldP99, 2),
        row("ELD max ms", (r) => r.eldMax, 2),
        row(`RSS KiB/run (${slow} slow held)`, (r) => r.rssPerRunKiB, 1),
        row("  first round (heaps growing)", (r) => r.rssFirstRoundKiB, 1),
      ],
    )}\n`,
  );
  for (const p of ["worker", "main"] as const) {
    process.stdout.write(`CPU ms/run by thread (${p}): ${Object.entries(results[p].threadMs).map(([n, ms]) => `${n} ${fmt(ms, 2)}`).join(", ")}\n`);
  }
  const cpuOverhead = (results.worker.cpuMsPerRun / results.main.cpuMsPerRun - 1) * 100;
  process.stdout.write(`worker plane CPU/run vs baseline: ${cpuOverhead >= 0 ? "+" : ""}${fmt(cpuOverhead, 1)}% (goal < 15%)\n`);
  mkdirSync(join(REPO_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "bench", "results", "agent.json"), JSON.stringify({ quick, runs, slow, results, cpuOverheadPct: cpuOverhead }, null, 2));
  process.exit(0);
}

await runDriver();
