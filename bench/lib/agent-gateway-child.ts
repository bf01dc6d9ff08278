/**
 * Gateway child of bench/agent.ts (forked with IPC, run from the tsc build on plain node, as
 * `npm start` runs): starts a gateway on 127.0.0.1 port 0 whose agent runs go through the
 * piscina pool (`AGENT_BENCH_PLANE=worker`) or through the same loop on the main thread
 * (`main`, the bench's baseline — never a gateway option). Answers the driver's commands:
 * provider config, main-thread event-loop delay, RSS after a GC (needs `--expose-gc`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pino from "pino";
import { startGateway } from "../../src/main/gateway.js";
import { DEFAULT_POLICY } from "../../src/main/options.js";
import type { AgentEvent } from "../../src/workers/agent/agent-events.js";
import type { AgentPoolTask } from "../../src/workers/agent/pool/pool-protocol.js";
import { AgentPool } from "../../src/workers/agent/pool/agent-pool-host.js";
import { runSessionTurn } from "../../src/workers/agent/session-turn.js";
import type { FromAgentChild, ToAgentChild } from "./agent-child-protocol.js";
import { loopbackGatewayOptions } from "./gateway-options.js";

const TOKEN = process.env.AGENT_BENCH_TOKEN ?? "";
const plane = process.env.AGENT_BENCH_PLANE === "main" ? "main" : "worker";

const stateDir = mkdtempSync(join(tmpdir(), "agent-bench-"));
/** The worker plane's pool, kept to collect garbage in its threads before memory readings. */
let pool: AgentPool | undefined;
const poolOptions = {
  ...(process.env.AGENT_BENCH_THREADS !== undefined ? { maxThreads: Number(process.env.AGENT_BENCH_THREADS) } : {}),
  concurrentTasksPerWorker: 1024,
  ...(process.env.AGENT_BENCH_NICE !== undefined ? { nice: Number(process.env.AGENT_BENCH_NICE) } : {}),
  ...(process.env.AGENT_BENCH_YOUNG_MB !== undefined ? { youngGenerationMb: Number(process.env.AGENT_BENCH_YOUNG_MB) } : {}),
};
const createPlane =
  plane === "main"
    ? async (onEvent: (ev: AgentEvent) => void) => {
        return {
          run(task: AgentPoolTask) {
            const ac = new AbortController();
            return { runId: task.runId, result: runSessionTurn({ ...task, signal: ac.signal, onEvent }), abort: () => ac.abort() };
          },
          close: async () => undefined,
        };
      }
    : async (onEvent: (ev: AgentEvent) => void) => (pool = new AgentPool({ ...poolOptions, onEvent }));
const options = loopbackGatewayOptions(stateDir, TOKEN, DEFAULT_POLICY, {
  // A bench client reading thousands of events must not be cut as a slow consumer.
  policy: { ...DEFAULT_POLICY, maxBufferedBytes: 256 * 1024 * 1024 },
  controlUi: { enabled: false, basePath: "", allowInsecureAuth: false, allowedOrigins: [] },
  healthRefreshMs: 600_000,
});
const inst = await startGateway(options, pino({ level: "silent" }), { agents: { createPlane } });
let eld: ReturnType<typeof monitorEventLoopDelay> | null = null;
const send = (m: FromAgentChild): void => void process.send?.(m);
process.on("message", (m: ToAgentChild) => {
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
      // Collect garbage first in every isolate (--expose-gc): the figure is memory the runs hold.
      void (pool?.collectGarbage() ?? Promise.resolve()).then(() => {
        (globalThis as { gc?: () => void }).gc?.();
        send({ rss: process.memoryUsage().rss });
      });
      return;
    case "exit":
      void inst.stop().finally(() => {
        rmSync(stateDir, { recursive: true, force: true });
        process.exit(0);
      });
  }
});
send({ port: inst.server.port });
