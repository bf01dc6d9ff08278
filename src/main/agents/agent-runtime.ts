/**
 * The main-thread side of agent runs: run registry, admission (per-session lanes +
 * `maxConcurrent`), aborts, a deadline backstop, and the relay of pool events to clients.
 *
 *   start(req) → resolve session (store flushed) → ack-able StartedRun
 *              → lanes.acquire(session) → pool.run(task) ─ events over the rings ─► RunRelay
 *              → recordTurn + flush → RunOutcome
 *   (run-relay.ts) seq-gap notice · agent.wait cache · verbose rule · ONE serialisation,
 *                broadcast `agent` + unicast to subscribed nodes · `chat` events
 *
 * The pool (and the provider SDKs inside its threads) is created on the first run, so a
 * gateway that never runs an agent pays nothing for it. Session stores are owned here (one
 * writer per store); pool threads only append transcripts, and a transcript is written by
 * one run at a time because runs of a session are serialised.
 */
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import type { GatewayErrorCode } from "../../shared/errors.js";
import { SessionStore } from "../../shared/store/sessions/session-store.js";
import type { SessionEntry } from "../../shared/store/sessions/session-store.js";
import { agentIdOfKey, canonicalSessionKey, parseAgentSessionKey } from "../../shared/store/sessions/session-key.js";
import { agentEntry, type AgentRuntimeConfig } from "../../workers/agent/agent-config.js";
import type { AgentEvent, VerboseLevel } from "../../workers/agent/agent-events.js";
import type { AgentPool, PoolRun } from "../../workers/agent/pool/agent-pool-host.js";
import type { AgentPoolTask } from "../../workers/agent/pool/pool-protocol.js";
import type { SessionTurnResult } from "../../workers/agent/session-turn.js";
import type { EventBus } from "../events/event-bus.js";
import { gatewayMetrics, type AgentRunOutcome } from "../metrics/gateway-metrics.js";
import type { LiveOptions } from "../gateway-context.js";
import type { GatewayOptions } from "../options.js";
import { agentSettings, runtimeConfig } from "./agent-settings.js";
import { ChatStream } from "./chat-stream.js";
import { RunLanes } from "./run-lanes.js";
import type { SharedIdempotencySlot } from "./shared-idempotency.js";
import { RunWaits } from "./run-waits.js";
import { RunRelay } from "./run-relay.js";
import type { RunCtx } from "./run-relay.js";
import type { ImageContent } from "../../shared/store/sessions/transcript-types.js";
import { normalizeThinkingLevel, type ThinkingLevel } from "../../shared/run-directives.js";

/** What starts a run. */
export interface RunRequest {
  runId: string;
  message: string;
  /** Image attachments, sent to the model after the text (`attachments.ts`). */
  images?: ImageContent[];
  /** Session key as the client sent it (`main`, `agent:ops:x`, bare `foo`). */
  sessionKey?: string;
  agentId?: string;
  sessionId?: string;
  timeoutSeconds?: number;
  extraSystemPrompt?: string;
  /** `provider/model` for this run (a hook's `model`); wins over the session's `sessions.patch` model. */
  model?: string;
  /** Run verbose level; default: session → `agents.defaults.verboseDefault`. */
  verbose?: VerboseLevel;
  /** Run thinking level; default: session `thinkingLevel` → `agents.defaults.thinkingDefault` → off. */
  thinking?: ThinkingLevel;
  label?: string;
  spawnedBy?: string;
  /** Sees every event of this run (HTTP streaming), before the verbose rule. */
  onEvent?: (ev: AgentEvent) => void;
  /** Where the reply goes (a channel message): recorded as the session's `lastChannel/lastTo/lastAccountId`. */
  delivery?: { channel: string; to: string; accountId?: string };
}

export type { RunOutcome } from "./run-results.js";
import type { RunOutcome } from "./run-results.js";

/** A run the gateway accepted. */
export interface StartedRun {
  runId: string;
  /** Canonical store key. */
  sessionKey: string;
  sessionId: string;
  done: Promise<RunOutcome>;
}


/** Extra time past the run's own deadline before the main thread gives up on the thread. */
const DEADLINE_GRACE_MS = 10_000;

/** What runs turns: the piscina `AgentPool`, or (benches) anything with its `run`/`close`. */
export interface RunPlane {
  run(task: AgentPoolTask): PoolRun;
  close(): Promise<void>;
  /** Live and maximum threads (health). */
  stats?(): { threads: number; maxThreads: number };
}

/** Options of `AgentRuntime`. */
export interface AgentRuntimeDeps {
  live: LiveOptions;
  bus: EventBus;
  log: Logger;
  /** Creates the pool on the first run (tests pass small pools). */
  createPool: (onEvent: (ev: AgentEvent) => void) => Promise<RunPlane>;
}

/** One per gateway instance (owned by the agents module). */
export class AgentRuntime {
  /** Idempotency keys and finished runs shared with other gateways (set by the cluster; empty alone). */
  readonly shared: SharedIdempotencySlot = {};
  readonly waits = new RunWaits(this.shared);
  readonly lanes: RunLanes;
  readonly #runs = new Map<string, RunCtx>();
  readonly #relay: RunRelay;
  readonly #stores = new Map<string, Promise<SessionStore>>();
  #pool: Promise<RunPlane> | null = null;
  /** The plane once created (for synchronous health readings). */
  #plane: RunPlane | null = null;
  #closed = false;

  constructor(private readonly deps: AgentRuntimeDeps) {
    this.lanes = new RunLanes(() => agentSettings(deps.live.current).maxConcurrent);
    this.#relay = new RunRelay({ bus: deps.bus, log: deps.log, live: deps.live, waits: this.waits, runs: this.#runs });
  }

  /** True once the pool was created (first run). */
  get poolStarted(): boolean {
    return this.#pool !== null;
  }

  /** Pool threads for health: live and maximum (empty before the first run). */
  planeStats(): { threads?: number; maxThreads?: number } {
    return this.#plane?.stats?.() ?? {};
  }

  /** The piscina pool, if started (health, tests). */
  pool(): Promise<AgentPool> | null {
    return this.#pool as Promise<AgentPool> | null;
  }

  /** Runs in flight (queued or running). */
  get active(): number {
    return this.#runs.size;
  }

  /** The live gateway options (read at each use, never kept). */
  get options(): GatewayOptions {
    return this.deps.live.current;
  }

  /** Canonical key and agent of what a client sent; `INVALID_REQUEST` when it cannot be one. */
  resolveKey(raw: string, agentId?: string): { key: string; agentId: string } {
    const s = agentSettings(this.deps.live.current);
    if (agentId !== undefined && !s.agentIds.includes(agentId.toLowerCase())) throw invalid(`unknown agent id "${agentId}"`);
    const source = raw.trim() !== "" ? raw : agentId !== undefined ? `agent:${agentId.toLowerCase()}:${s.keys.mainKey ?? "main"}` : "";
    const key = canonicalSessionKey(source, s.keys);
    if (key === null) throw invalid(`invalid session key "${raw}"`);
    const owner = agentIdOfKey(key, s.defaultAgentId);
    if (agentId !== undefined && parseAgentSessionKey(key) !== null && owner !== agentId.toLowerCase()) throw invalid(`agent id "${agentId}" does not match session key "${raw}"`);
    return { key, agentId: owner };
  }

  /** The session store of `agentId` (opened once). */
  store(agentId: string): Promise<SessionStore> {
    let p = this.#stores.get(agentId);
    if (p === undefined) {
      p = SessionStore.open({ stateDir: this.deps.live.current.stateDir, agentId });
      this.#stores.set(agentId, p);
      p.catch(() => this.#stores.delete(agentId));
    }
    return p;
  }

  /** Resolves the session (persisted before it returns: the caller acknowledges after) and queues the run. */
  async start(req: RunRequest): Promise<StartedRun> {
    if (this.#closed) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "gateway is shutting down");
    if (this.#runs.has(req.runId)) throw invalid(`run ${req.runId} is already in flight`);
    const { key, agentId, store } = await this.#sessionFor(req);
    if (store.get(key)?.sendPolicy === "deny") throw invalid("send blocked by session policy");
    const { entry } = store.resolveForRun(key, req.sessionId);
    const patch: Partial<SessionEntry> = {};
    if (req.label !== undefined) patch.label = req.label;
    if (req.spawnedBy !== undefined && entry.spawnedBy === undefined) patch.spawnedBy = req.spawnedBy;
    if (req.delivery !== undefined) {
      patch.lastChannel = req.delivery.channel;
      patch.lastTo = req.delivery.to;
      patch.lastAccountId = req.delivery.accountId;
    }
    if (Object.keys(patch).length > 0) store.patch(key, patch);
    await store.flush();
    const settings = agentSettings(this.deps.live.current);
    const sessionVerbose = entry.verboseLevel === "on" || entry.verboseLevel === "full" || entry.verboseLevel === "off" ? entry.verboseLevel : undefined;
    const shownKey = req.sessionKey?.trim() || key;
    const ctx: RunCtx = {
      runId: req.runId,
      key,
      aliases: [...new Set([shownKey, key])],
      verbose: req.verbose ?? sessionVerbose ?? settings.verboseDefault,
      lastSeq: 0,
      terminal: false,
      ac: new AbortController(),
      chat: new ChatStream(req.runId, shownKey, (p) => this.#relay.emitChat(ctx, p)),
      listener: req.onEvent,
    };
    this.#runs.set(req.runId, ctx);
    // #execute settles every failure into an outcome, so this counts each run exactly once.
    const done = this.#execute(ctx, req, agentId, entry.sessionId, shownKey, store).then((o) => {
      gatewayMetrics.agentRunEnded(metricOutcome(o));
      return o;
    });
    ctx.done = done;
    return { runId: req.runId, sessionKey: key, sessionId: entry.sessionId, done };
  }

  /** The session of a request: its key (or the agent's main key); only a `sessionId`: the entry holding it, else `agent:<default>:<sessionId>`. */
  async #sessionFor(req: RunRequest): Promise<{ key: string; agentId: string; store: SessionStore }> {
    if ((req.sessionKey ?? "").trim() === "" && req.agentId === undefined && req.sessionId !== undefined) {
      const agentId = agentSettings(this.deps.live.current).defaultAgentId;
      const store = await this.store(agentId);
      const found = store.list().find(([, e]) => e.sessionId === req.sessionId);
      return { key: found?.[0] ?? this.resolveKey(`agent:${agentId}:${req.sessionId}`).key, agentId, store };
    }
    const { key, agentId } = this.resolveKey(req.sessionKey ?? "", req.agentId);
    return { key, agentId, store: await this.store(agentId) };
  }

  /** Aborts one run (queued or running). Returns false when it is not in flight. */
  abort(runId: string, stopReason: string): boolean {
    const ctx = this.#runs.get(runId);
    if (ctx === undefined || ctx.terminal || ctx.abortedBy !== undefined) return false;
    ctx.abortedBy = stopReason;
    ctx.chat.aborted(ctx.lastSeq + 1, stopReason);
    ctx.ac.abort(new GatewayError("GW_ERR_AGENT_ABORTED", `run ${runId} aborted (${stopReason})`));
    return true;
  }

  /** Run ids in flight on a canonical session key. */
  runsOf(key: string): string[] {
    return [...this.#runs.values()].filter((c) => c.key === key && !c.terminal).map((c) => c.runId);
  }

  /** An in-flight run: `terminal` once its stream ended (its outcome is being recorded). */
  inFlight(runId: string): { terminal: boolean; done: Promise<RunOutcome> } | undefined {
    const c = this.#runs.get(runId);
    return c?.done === undefined ? undefined : { terminal: c.terminal, done: c.done };
  }

  /** The canonical key of an in-flight run. */
  keyOf(runId: string): string | undefined {
    return this.#runs.get(runId)?.key;
  }

  /** Aborts the session's runs, returns their ids. */
  abortSession(key: string, stopReason: string): string[] {
    return this.runsOf(key).filter((id) => this.abort(id, stopReason));
  }

  /** Stops: aborts runs, closes the pool and the stores. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#runs.keys()]) this.abort(id, "shutdown");
    const pool = this.#pool;
    this.#pool = null;
    this.#plane = null;
    if (pool !== null) await (await pool.catch(() => null))?.close();
    for (const s of this.#stores.values()) await (await s.catch(() => null))?.close();
  }

  #getPool(): Promise<RunPlane> {
    if (this.#pool === null) {
      const created = this.deps.createPool((ev) => this.#relay.onEvent(ev));
      this.#pool = created;
      created.then(
        (plane) => {
          if (this.#pool === created) this.#plane = plane;
        },
        () => (this.#pool = null),
      );
    }
    return this.#pool;
  }

  async #execute(ctx: RunCtx, req: RunRequest, agentId: string, sessionId: string, shownKey: string, store: SessionStore): Promise<RunOutcome> {
    const at = Date.now();
    const base = { runId: ctx.runId, sessionKey: ctx.key, sessionId, text: "", startedAt: at, endedAt: at };
    let release: (() => void) | undefined;
    let deadline: NodeJS.Timeout | undefined;
    try {
      release = await this.lanes.acquire(ctx.key, ctx.ac.signal);
      if (ctx.ac.signal.aborted) return { ...base, status: "aborted", endedAt: Date.now() };
      const live = this.deps.live.current;
      const cfg = runtimeConfig(live);
      const entry = store.get(ctx.key);
      const modelOverride = req.model ?? sessionModel(entry);
      if (modelOverride === undefined && cfg.agents?.defaults?.model === undefined && agentEntry(cfg, agentId)?.model === undefined) {
        // Fails at once, without starting the pool (the thread would say the same).
        const error = new GatewayError("GW_ERR_AGENT_NO_MODEL", "no model configured: set agents.defaults.model (\"provider/model\" or {primary, fallbacks}) and models.providers.<id>");
        const t0 = Date.now();
        this.#relay.onEvent({ runId: ctx.runId, seq: 1, stream: "lifecycle", ts: t0, sessionKey: shownKey, data: { phase: "start", startedAt: t0 } });
        this.#relay.onEvent({ runId: ctx.runId, seq: 2, stream: "lifecycle", ts: t0, sessionKey: shownKey, data: { phase: "error", startedAt: t0, endedAt: t0, error: error.message } });
        return { ...base, status: "error", error };
      }
      const pool = await this.#getPool();
      const run = pool.run({
        stateDir: live.stateDir,
        config: cfg,
        agentId,
        sessionId,
        sessionKey: shownKey,
        runId: ctx.runId,
        message: req.images !== undefined && req.images.length > 0 ? [{ type: "text", text: req.message }, ...req.images] : req.message,
        timeoutSeconds: req.timeoutSeconds,
        extraSystemPrompt: req.extraSystemPrompt,
        ...(modelOverride !== undefined ? { modelOverride } : {}),
        ...thinkingOf(req, entry, cfg),
      });
      ctx.pool = run;
      const onAbort = (): void => run.abort();
      ctx.ac.signal.addEventListener("abort", onAbort, { once: true });
      if (ctx.ac.signal.aborted) run.abort();
      // Backstop: the thread enforces the deadline; if it stops answering, the caller still gets one.
      const timeoutMs = Math.round((req.timeoutSeconds ?? cfg.agents?.defaults?.timeoutSeconds ?? 600) * 1000) + DEADLINE_GRACE_MS;
      const backstop = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => {
          run.abort();
          reject(new GatewayError("GW_ERR_AGENT_TIMEOUT", `agent run ${ctx.runId} timed out`));
        }, timeoutMs);
      });
      const res = await Promise.race([run.result, backstop]);
      if (res.record !== undefined && store.get(ctx.key)?.sessionId === sessionId) store.recordTurn(ctx.key, res.record);
      await store.flush();
      return this.#outcome(ctx, base, res);
    } catch (err) {
      const e = err instanceof GatewayError ? err : new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", String(err));
      if (ctx.abortedBy !== undefined && e.code === "GW_ERR_AGENT_ABORTED") return { ...base, status: "aborted", endedAt: Date.now() };
      // The thread died (or stopped answering) before its terminal event: end the stream here.
      if (!ctx.terminal) this.#relay.onEvent({ runId: ctx.runId, seq: ctx.lastSeq + 1, stream: "lifecycle", ts: Date.now(), sessionKey: shownKey, data: { phase: "error", endedAt: Date.now(), error: e.message } });
      return { ...base, status: "error", endedAt: Date.now(), error: e };
    } finally {
      clearTimeout(deadline);
      release?.();
      this.#runs.delete(ctx.runId);
    }
  }

  #outcome(ctx: RunCtx, base: Omit<RunOutcome, "status">, res: SessionTurnResult): RunOutcome {
    const t = res.turn;
    const out: RunOutcome = { ...base, status: ctx.abortedBy !== undefined || t.status === "aborted" ? "aborted" : t.status, text: t.text, startedAt: t.startedAt, endedAt: t.endedAt };
    if (t.provider !== undefined) out.provider = t.provider;
    if (t.model !== undefined) out.model = t.model;
    if (t.stopReason !== undefined) out.stopReason = t.stopReason;
    out.usage = { input: t.usage.input, output: t.usage.output, cacheRead: t.usage.cacheRead, cacheWrite: t.usage.cacheWrite, total: t.usage.totalTokens };
    if (t.status === "error" && t.error !== undefined) out.error = new GatewayError(t.error.code as GatewayErrorCode, t.error.message, t.error.details);
    return out;
  }
}

/** The `/metrics` label of an ended run (a deadline is told apart from other errors). */
function metricOutcome(o: RunOutcome): AgentRunOutcome {
  if (o.status === "error" && o.error?.code === "GW_ERR_AGENT_TIMEOUT") return "timeout";
  return o.status;
}

function invalid(message: string): GatewayError {
  return new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", message);
}

/** The run's thinking level: its own, else the session's, else `thinkingDefault`; none when off. */
function thinkingOf(req: RunRequest, entry: SessionEntry | undefined, cfg: AgentRuntimeConfig): { thinking?: ThinkingLevel } {
  const level = req.thinking ?? normalizeThinkingLevel(entry?.thinkingLevel) ?? normalizeThinkingLevel(cfg.agents?.defaults?.thinkingDefault) ?? "off";
  return level === "off" ? {} : { thinking: level };
}

/** The session's `sessions.patch` model (`providerOverride/modelOverride`), if set. */
function sessionModel(entry: SessionEntry | undefined): string | undefined {
  const provider = entry?.providerOverride;
  const model = entry?.modelOverride;
  return typeof provider === "string" && provider !== "" && typeof model === "string" && model !== "" ? `${provider}/${model}` : undefined;
}
