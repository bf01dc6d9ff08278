/**
 * Agent runs: the worker plane (piscina pool, events over SharedArrayBuffer rings) against a
 * baseline that runs the same loop (`runSessionTurn`, same SDK, same transcripts) on the
 * gateway's main thread — in one run, each plane in a fresh gateway process.
 *
 *   npx tsx bench/agent.ts [--quick] [--runs N] [--slow N]
 *
 * Process layout: this driver hosts the zero-delay fake provider (OpenAI chat-completions
 * SSE, chunk timestamps embedded in the text) and the WebSocket client; the gateway runs in
 * a child (`--child`), whose CPU is read from procfs and which reports its own main-thread
 * event-loop delay and RSS over IPC.
 *
 * Per plane:
 *   runs/s, CPU ms/run   N runs (5 chunks, no delay), 50 in flight, one session each
 *   chunk→frame p50/p99  provider writes a chunk → the client receives the `agent` event
 *                        carrying it; 50 runs streaming (20 chunks, 20 ms apart)
 *   ELD p99              gateway main-thread event-loop delay while 200 runs stream
 *   RSS/run              RSS growth with M concurrent slow runs (a chunk every 100 ms),
 *                        sampled once every run streamed its first chunk
 * Writes bench/results/agent.json. Not part of `npm test`.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pino from "pino";
import WebSocket from "ws";
import { intArg, parseArgs } from "./lib/args.js";
import { guardProcess, REPO_ROOT, track } from "./lib/children.js";
import { machineHeader } from "./lib/machine.js";
import { processCpuSeconds } from "./lib/proc-stat.js";
import { fmt, formatTable } from "./lib/stats.js";

type Plane = "worker" | "main";
type ToChild = { cmd: "config"; providerUrl: string; model: string; maxConcurrent: number } | { cmd: "eld-start" } | { cmd: "eld-stop" } | { cmd: "rss" } | { cmd: "exit" };
type FromChild = { port: number } | { eld: { p50: number; p99: number; max: number } } | { rss: number } | { ok: true };

const TOKEN = "bench-token-0123456789abcdef";
const now = (): number => performance.timeOrigin + performance.now();


// ───────────────────────────── gateway child ─────────────────────────────

async function runChild(plane: Plane): Promise<void> {
  const { startGateway } = await import("../src/main/gateway.js");
  const { DEFAULT_POLICY } = await import("../src/main/options.js");
  const stateDir = mkdtempSync(join(tmpdir(), "agent-bench-"));
  const createPlane =
    plane === "main"
      ? async (onEvent: (ev: import("../src/workers/agent/agent-events.js").AgentEvent) => void) => {
          const { runSessionTurn } = await import("../src/workers/agent/session-turn.js");
          return {
            run(task: import("../src/workers/agent/pool/pool-protocol.js").AgentPoolTask) {
              const ac = new AbortController();
              return { runId: task.runId, result: runSessionTurn({ ...task, signal: ac.signal, onEvent }), abort: () => ac.abort() };
            },
            close: async () => undefined,
          };
        }
      : undefined;
  const options = {
    host: "127.0.0.1",
    port: 0,
    auth: { mode: "token" as const, token: TOKEN },
    stateDir,
    configPath: join(stateDir, "clawdbot.json"),
    // A bench client reading thousands of events must not be cut as a slow consumer.
    policy: { ...DEFAULT_POLICY, maxBufferedBytes: 256 * 1024 * 1024 },
    handshakeTimeoutMs: 10_000,
    preAuthMaxPerIp: 64,
    presenceMaxEntries: 200,
    controlUi: { enabled: false, basePath: "", allowInsecureAuth: false, allowedOrigins: [] },
    trustedProxies: [],
    nodes: { allowCommands: [], denyCommands: [] },
    canvasHostPort: null,
    version: "bench",
    healthRefreshMs: 600_000,
    presenceBroadcastWindowMs: 100,
  };
  const inst = await startGateway(options, pino({ level: "silent" }), { agents: createPlane ? { createPlane } : { pool: { maxThreads: 2, concurrentTasksPerWorker: 1024 } } });
  let eld: ReturnType<typeof monitorEventLoopDelay> | null = null;
  const send = (m: FromChild): void => void process.send?.(m);
  process.on("message", (m: ToChild) => {
    switch (m.cmd) {
      case "config":
        inst.server.ctx.options = {
          ...inst.server.ctx.options,
          agentConfig: {
            agents: { defaults: { model: `fake/${m.model}`, workspace: join(stateDir, "ws"), maxConcurrent: m.maxConcurrent } },
            models: { providers: { fake: { baseUrl: m.providerUrl, apiKey: "sk-bench", api: "openai-completions", models: [{ id: m.model }] } } },
          },
        };
        return send({ ok: true });
      case "eld-start":
        eld = monitorEventLoopDelay({ resolution: 1 });
        eld.enable();
        return send({ ok: true });
      case "eld-stop": {
        const h = eld!;
        h.disable();
        return send({ eld: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 } });
      }
      case "rss":
        // Collect garbage first (main isolate; --expose-gc): the figure is memory the runs hold.
        (globalThis as { gc?: () => void }).gc?.();
        return send({ rss: process.memoryUsage().rss });
      case "exit":
        void inst.stop().finally(() => {
          rmSync(stateDir, { recursive: true, force: true });
          process.exit(0);
        });
    }
  });
  send({ port: inst.server.port });
}

// ───────────────────────────── driver ─────────────────────────────

/** Fake OpenAI provider: model `b-<chunks>-<delayMs>`; each chunk carries `<t>` (epoch ms) of its write. */
async function startProvider(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { model: string };
      const [, n, d] = /^b-(\d+)-(\d+)$/.exec(body.model) ?? ["", "5", "0"];
      const chunks = Number(n);
      const delay = Number(d);
      const base = { id: "chatcmpl-b", object: "chat.completion.chunk", created: 0, model: body.model };
      const frame = (delta: Record<string, unknown>, finish: string | null = null): string => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(frame({ role: "assistant", content: "" }));
      let i = 0;
      let gone = false;
      res.on("close", () => (gone = true));
      const step = (): void => {
        if (gone) return;
        if (i < chunks) {
          i++;
          res.write(frame({ content: `<${now().toFixed(3)}>` }));
          if (delay > 0) setTimeout(step, delay);
          else step();
          return;
        }
        res.write(frame({}, "stop"));
        res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: chunks, total_tokens: 10 + chunks } })}\n\n`);
        res.end("data: [DONE]\n\n");
      };
      if (delay > 0) setTimeout(step, delay);
      else step();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => server.close() };
}

interface Child {
  proc: ChildProcess;
  port: number;
  call(m: ToChild): Promise<FromChild>;
}

async function startChild(plane: Plane): Promise<Child> {
  const proc = track(
    fork(fileURLToPath(import.meta.url), ["--child"], { cwd: REPO_ROOT, execArgv: ["--import", "tsx", "--expose-gc"], env: { ...process.env, AGENT_BENCH_PLANE: plane }, stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    proc.once("message", (m: FromChild) => ("port" in m ? resolve(m.port) : reject(new Error("bad hello"))));
    proc.once("exit", (code) => reject(new Error(`gateway child exited ${code}`)));
  });
  proc.on("exit", (code, sig) => process.stderr.write(`[${plane}] gateway child exited (${code ?? sig})\n`));
  let chain = Promise.resolve<FromChild>({ ok: true });
  const call = (m: ToChild): Promise<FromChild> =>
    (chain = chain.then(
      () =>
        new Promise<FromChild>((resolve) => {
          proc.once("message", resolve);
          proc.send(m);
        }),
    ));
  return { proc, port, call };
}

/** One operator connection: sends `agent` requests and watches every event. */
class Client {
  readonly #ws: WebSocket;
  readonly #finals = new Map<string, () => void>();
  onAssistant: ((runId: string, delta: string, at: number) => void) | null = null;
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data) => {
      const at = now();
      const f = JSON.parse(data.toString()) as { type: string; id?: string; ok?: boolean; payload?: { status?: string; runId?: string; stream?: string; data?: { delta?: string } }; event?: string };
      if (f.type === "event" && f.event === "agent" && f.payload?.stream === "assistant" && this.onAssistant) this.onAssistant(f.payload.runId!, f.payload.data?.delta ?? "", at);
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
  eldP99: number;
  eldMax: number;
  rssPerRunKiB: number;
  slowRuns: number;
}

async function measurePlane(plane: Plane, providerUrl: string, o: { runs: number; slow: number }): Promise<PlaneResult> {
  const child = await startChild(plane);
  const client = await Client.connect(child.port);
  const config = (model: string): Promise<FromChild> => child.call({ cmd: "config", providerUrl, model, maxConcurrent: 4096 });
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
  const cpu0 = processCpuSeconds(child.proc.pid!) ?? Number.NaN;
  const t0 = performance.now();
  await batch(o.runs, 50);
  const wall = (performance.now() - t0) / 1000;
  const cpu = (processCpuSeconds(child.proc.pid!) ?? Number.NaN) - cpu0;

  step("latency");
  await config("b-20-20");
  const lat: number[] = [];
  client.onAssistant = (_id, delta, at) => {
    for (const m of delta.matchAll(/<(\d+\.\d+)>/g)) lat.push(at - Number(m[1]));
  };
  await batch(50, 50);
  client.onAssistant = null;

  step("event-loop delay");
  await child.call({ cmd: "eld-start" });
  await batch(200, 200);
  const eld = (await child.call({ cmd: "eld-stop" })) as { eld: { p99: number; max: number } };

  step("slow runs");
  await config("b-12-100");
  const rss0 = ((await child.call({ cmd: "rss" })) as { rss: number }).rss;
  const seen = new Set<string>();
  let allStreaming: () => void = () => undefined;
  const streaming = new Promise<void>((r) => (allStreaming = r));
  client.onAssistant = (id) => {
    seen.add(id);
    if (seen.size >= o.slow) allStreaming();
  };
  const slow = batch(o.slow, o.slow);
  const progress = setInterval(() => step(`streaming ${seen.size}/${o.slow}`), 2000);
  await streaming;
  clearInterval(progress);
  const rss1 = ((await child.call({ cmd: "rss" })) as { rss: number }).rss;
  await slow;
  client.onAssistant = null;
  client.close();
  const exited = new Promise((r) => child.proc.once("exit", r));
  child.proc.send({ cmd: "exit" } satisfies ToChild);
  await exited;
  return {
    runsPerSec: o.runs / wall,
    cpuMsPerRun: (cpu * 1000) / o.runs,
    latP50: pct(lat, 50),
    latP99: pct(lat, 99),
    eldP99: eld.eld.p99,
    eldMax: eld.eld.max,
    rssPerRunKiB: (rss1 - rss0) / 1024 / o.slow,
    slowRuns: o.slow,
  };
}

async function runDriver(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.switches.has("quick");
  const runs = intArg(args, "runs", quick ? 300 : 2000);
  const slow = intArg(args, "slow", quick ? 300 : 1000);
  guardProcess((quick ? 300 : 1200) * 1000);
  process.stdout.write(`${machineHeader()}\nagent bench: ${runs} runs, ${slow} slow runs${quick ? " (quick)" : ""}\n`);
  const provider = await startProvider();
  const results: Record<Plane, PlaneResult> = { worker: await measurePlane("worker", provider.url, { runs, slow }), main: await measurePlane("main", provider.url, { runs, slow }) };
  provider.close();
  const row = (name: string, get: (r: PlaneResult) => number, digits: number): string[] => [name, fmt(get(results.worker), digits), fmt(get(results.main), digits)];
  process.stdout.write(
    `${formatTable(
      ["metric", "worker plane", "main-thread baseline"],
      [
        row("runs/s", (r) => r.runsPerSec, 0),
        row("CPU ms/run", (r) => r.cpuMsPerRun, 2),
        row("chunk→frame p50 ms", (r) => r.latP50, 2),
        row("chunk→frame p99 ms", (r) => r.latP99, 2),
        row("ELD p99 ms (200 streaming)", (r) => r.eldP99, 2),
        row("ELD max ms", (r) => r.eldMax, 2),
        row(`RSS KiB/run (${slow} slow)`, (r) => r.rssPerRunKiB, 1),
      ],
    )}\n`,
  );
  const cpuOverhead = (results.worker.cpuMsPerRun / results.main.cpuMsPerRun - 1) * 100;
  process.stdout.write(`worker plane CPU/run vs baseline: ${cpuOverhead >= 0 ? "+" : ""}${fmt(cpuOverhead, 1)}% (goal < 15%)\n`);
  mkdirSync(join(REPO_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "bench", "results", "agent.json"), JSON.stringify({ quick, runs, slow, results, cpuOverheadPct: cpuOverhead }, null, 2));
  process.exit(0);
}

if (process.argv.includes("--child")) await runChild(process.env.AGENT_BENCH_PLANE === "main" ? "main" : "worker");
else await runDriver();
