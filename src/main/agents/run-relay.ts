/**
 * The relay of a run's events to clients (§3.8, §3.9): per event, in per-run seq order —
 * seq-gap notice, the `agent.wait` cache, the run's own listener (HTTP streaming), the
 * verbose rule (suppressed `tool` events still advance the seq), ONE serialisation for the
 * `agent` broadcast and the unicast to nodes subscribed to the session, then `chat` events.
 */
import type { Logger } from "pino";
import { shouldRelay } from "../../workers/agent/agent-events.js";
import type { AgentEvent, VerboseLevel } from "../../workers/agent/agent-events.js";
import type { PoolRun } from "../../workers/agent/pool/agent-pool-host.js";
import type { EventBus } from "../events/event-bus.js";
import type { LiveOptions } from "../gateway-context.js";
import { nodeServiceOf } from "../nodes/node-events.js";
import type { ChatEventPayload, ChatStream } from "./chat-stream.js";
import type { RunOutcome } from "./run-results.js";
import type { RunWaits } from "./run-waits.js";

/** A run in the registry. */
export interface RunCtx {
  runId: string;
  key: string;
  /** Keys nodes may have subscribed with (as sent, canonical). */
  aliases: string[];
  verbose: VerboseLevel;
  lastSeq: number;
  terminal: boolean;
  abortedBy?: string;
  ac: AbortController;
  pool?: PoolRun;
  chat: ChatStream;
  listener?: (ev: AgentEvent) => void;
  done?: Promise<RunOutcome>;
}

/** What the relay reads and writes. */
export interface RunRelayDeps {
  bus: EventBus;
  log: Logger;
  live: LiveOptions;
  waits: RunWaits;
  /** The runtime's registry (runId → run). */
  runs: ReadonlyMap<string, RunCtx>;
}

/** Turns pool events into client frames. */
export class RunRelay {
  constructor(private readonly deps: RunRelayDeps) {}

  /** Every pool event, in per-run seq order (from the rings). */
  onEvent(ev: AgentEvent): void {
    const ctx = this.deps.runs.get(ev.runId);
    if (ctx !== undefined) {
      if (ev.seq !== ctx.lastSeq + 1) this.#broadcastAgent(ctx, { runId: ev.runId, stream: "error", ts: Date.now(), sessionKey: ev.sessionKey, data: { reason: "seq gap", expected: ctx.lastSeq + 1, received: ev.seq } });
      ctx.lastSeq = ev.seq;
    }
    const phase = ev.stream === "lifecycle" ? ev.data.phase : undefined;
    if (phase === "start" && typeof ev.data.startedAt === "number") this.deps.waits.started(ev.runId, ev.data.startedAt);
    if (phase === "end" || phase === "error") this.deps.waits.finished(ev.runId, ev.data);
    if (ctx === undefined) {
      this.deps.bus.broadcast("agent", ev);
      return;
    }
    if (phase === "end" || phase === "error") ctx.terminal = true;
    if (ctx.listener !== undefined) {
      try {
        ctx.listener(ev);
      } catch (err) {
        this.deps.log.warn({ runId: ev.runId, err: String(err) }, "agent run listener failed");
      }
    }
    // §3.8: suppressed tool events still advanced lastSeq above.
    if (shouldRelay(ev, ctx.verbose)) this.#broadcastAgent(ctx, ev);
    if (ctx.abortedBy !== undefined) return; // aborted runs emit no final/error from the stream
    if (ev.stream === "assistant" && typeof ev.data.text === "string") ctx.chat.assistant(ev.seq, ev.data.text);
    else if (phase === "end") ctx.chat.final(ev.seq);
    else if (phase === "error") ctx.chat.error(ev.seq, typeof ev.data.error === "string" ? ev.data.error : "agent run failed");
  }

  /** Serialises once; the same JSON goes to every operator and every subscribed node. */
  #broadcastAgent(ctx: RunCtx, payload: Record<string, unknown> | AgentEvent): void {
    const json = JSON.stringify(payload);
    this.deps.bus.broadcast("agent", payload, { payloadJson: json });
    this.#toNodes(ctx, "agent", payload);
  }

  emitChat(ctx: RunCtx, p: ChatEventPayload): void {
    this.deps.bus.broadcast("chat", p, { payloadJson: JSON.stringify(p) });
    this.#toNodes(ctx, "chat", p);
  }

  #toNodes(ctx: RunCtx, event: string, payload: unknown): void {
    const nodes = nodeServiceOf(this.deps.live);
    if (nodes === undefined) return;
    for (const k of ctx.aliases) nodes.subscriptions.sendToSession(k, event, payload);
  }
}
