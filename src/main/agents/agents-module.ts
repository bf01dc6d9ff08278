/**
 * The `agents` module (built in): agent runs for clients, nodes and the OpenAI-compatible
 * HTTP endpoints. Registers `agent`, `agent.wait`, `agent.identity.get`, `chat.*`,
 * `sessions.*`, the node `voice.transcript` / `agent.request` hooks, and the
 * `/v1/chat/completions` and `/v1/responses` mounts (off unless configured).
 *
 * Start-up cost is ~0: the piscina pool (and, inside its threads, the provider SDKs) is
 * imported and created on the first run; session stores open on first use.
 */
import { randomUUID } from "node:crypto";
import type { AgentPoolOptions } from "../../workers/agent/pool/agent-pool-host.js";
import type { AgentEvent } from "../../workers/agent/agent-events.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { setNodeAgentHooks } from "../nodes/node-events.js";
import { registerAgentMethods } from "./agent-methods.js";
import type { DedupeEntry } from "./agent-methods.js";
import { AgentRuntime } from "./agent-runtime.js";
import { agentPoolSettings } from "./agent-settings.js";
import type { RunPlane } from "./agent-runtime.js";
import { registerChatMethods } from "./chat-methods.js";
import { mountOpenAiHttp } from "./openai-http.js";
import { registerSessionMethods } from "./session-methods.js";
import { TtlCache } from "./ttl-cache.js";
import { thinkingOption } from "../../shared/run-directives.js";

export const AGENTS_MODULE = "agents";

/** Idempotency cache of `agent` / `chat.send` (§3.5, §3.9). */
const DEDUPE_TTL_MS = 5 * 60_000;
const DEDUPE_MAX = 1000;

/** Options of the agents module. */
export interface AgentsModuleOptions {
  /** Pool sizing; overrides `agents.pool` from the config (default: cores − 1, 1 to 4 threads; 64 runs per thread). */
  pool?: Omit<AgentPoolOptions, "onEvent">;
  /** Replaces the piscina pool (benches: the same loop on the main thread). Default: `AgentPool`. */
  createPlane?: (onEvent: (ev: AgentEvent) => void) => Promise<RunPlane>;
}

export function agentsModule(opts: AgentsModuleOptions = {}): GatewayModuleDef {
  return {
    name: AGENTS_MODULE,
    dependsOn: ["nodes"],
    register(r) {
      const { live, bus, log } = r.core;
      const runtime = new AgentRuntime({
        live,
        bus,
        log,
        createPool:
          opts.createPlane ??
          (async (onEvent: (ev: AgentEvent) => void): Promise<RunPlane> => {
            const { AgentPool } = await import("../../workers/agent/pool/agent-pool-host.js");
            const { settings, invalid } = agentPoolSettings(live.current);
            for (const problem of invalid) log.warn(`${problem}; using the default`);
            return new AgentPool({ ...settings, ...opts.pool, onEvent });
          }),
      });
      const dedupe = new TtlCache<DedupeEntry>(DEDUPE_TTL_MS, DEDUPE_MAX);
      registerAgentMethods(r.extra.methods, runtime, dedupe, runtime.shared);
      registerChatMethods(r.extra.methods, runtime, dedupe, runtime.shared);
      registerSessionMethods(r.extra.methods, runtime);
      mountOpenAiHttp(r.extra.http, runtime, live);
      const background = (what: string, runId: string, p: Promise<unknown>): void =>
        void p.catch((err: unknown) => log.warn({ runId, err: String(err) }, `${what}: agent run not started`));
      setNodeAgentHooks(live, {
        voiceTranscript: (nodeId, p) => {
          const runId = `voice-${randomUUID()}`;
          background("voice.transcript", runId, runtime.start({ runId, message: p.text, sessionKey: p.sessionKey ?? "main", thinking: "low" }).then((s) => s.done));
          log.debug({ nodeId, runId }, "voice transcript run");
        },
        agentRequest: (nodeId, p) => {
          const runId = p.key !== undefined ? `node-${nodeId}-${p.key}` : `node-${randomUUID()}`;
          background("agent.request", runId, runtime.start({ runId, message: p.message, sessionKey: p.sessionKey ?? `node-${nodeId}`, timeoutSeconds: p.timeoutSeconds, ...thinkingOption(p.thinking) }).then((s) => s.done));
        },
      });
      r.healthSection("agentRuns", () => ({ poolStarted: runtime.poolStarted, ...runtime.planeStats(), active: runtime.active, running: runtime.lanes.running, queued: runtime.lanes.queued }));
      return {
        api: runtime,
        stop: async () => {
          setNodeAgentHooks(live, undefined);
          await runtime.close();
        },
      };
    },
  };
}
