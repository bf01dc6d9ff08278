/**
 * `chat.send`, `chat.history`, `chat.abort`, `chat.inject` (§3.9).
 *
 * `chat.send` answers once: `{runId, status:"started"}` after the session is persisted; the
 * reply streams as `chat`/`agent` events. `/stop` aborts the session's runs instead. Dedupe
 * `chat:<idempotencyKey>`: a finished run replays its cached `{runId, status:"ok"}` (or error),
 * one still running answers `{runId, status:"in_flight"}`. In a cluster the key is claimed in
 * the shared dedupe store first (shared-idempotency.ts), so the same holds for a retry on
 * another gateway.
 *
 * `chat.history` reads the transcript the pool thread committed before the run's final
 * lifecycle event, so right after a `chat` final the history contains that turn.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { GatewayError, toErrorShape } from "../../shared/errors.js";
import { TranscriptWriter, readHistory, transcriptTail } from "../../shared/store/sessions/transcript.js";
import type { AssistantMessage } from "../../shared/store/sessions/transcript-types.js";
import { emptyUsage } from "../../shared/store/sessions/transcript-types.js";
import type { MethodTable } from "../router.js";
import { replay, runImages, runThinking } from "./agent-methods.js";
import type { DedupeEntry } from "./agent-methods.js";
import type { AgentRuntime } from "./agent-runtime.js";
import type { TtlCache } from "./ttl-cache.js";
import { finalOf, type SharedIdempotencySlot } from "./shared-idempotency.js";
import { normalizeThinkingLevel } from "../../shared/run-directives.js";
import { runtimeConfig } from "./agent-settings.js";

/** Messages that abort the session's runs instead of starting one. */
const STOP_WORDS = new Set(["/stop", "stop", "/abort", "abort"]);

export function registerChatMethods(methods: MethodTable, runtime: AgentRuntime, dedupe: TtlCache<DedupeEntry>, shared: SharedIdempotencySlot = {}): void {
  methods.add("chat.send", "ChatSendParams", async (call) => {
    const p = call.params;
    const { key } = runtime.resolveKey(p.sessionKey);
    if (STOP_WORDS.has(p.message.trim().toLowerCase())) {
      const runIds = runtime.abortSession(key, "stop");
      return { ok: true, aborted: runIds.length > 0, runIds };
    }
    const cacheKey = `chat:${p.idempotencyKey}`;
    const running = runtime.inFlight(p.idempotencyKey);
    // Its stream already ended: answer as finished (the outcome is a store flush away).
    if (running?.terminal === true) await running.done.catch(() => undefined);
    else if (running !== undefined) return { runId: p.idempotencyKey, status: "in_flight" };
    const cached = dedupe.get(cacheKey);
    if (cached !== undefined) return replay(call, cached);
    const message = p.message.trim();
    if (message === "") throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "invalid chat.send params: message required");
    const thinking = runThinking(p.thinking, "chat.send");
    const images = await runImages(p.attachments, "chat.send");
    const share = shared.current;
    if (share !== undefined) {
      const claim = await share.claim(cacheKey, undefined);
      if (!claim.won) {
        const final = await finalOf(share, cacheKey, p.idempotencyKey, claim.final, async (id) => (await runtime.waits.wait(id, 0)).status !== "timeout");
        return final !== undefined ? replay(call, final) : { runId: p.idempotencyKey, status: "in_flight" };
      }
    }
    let started;
    try {
      started = await runtime.start({
        runId: p.idempotencyKey,
        message,
        sessionKey: p.sessionKey,
        timeoutSeconds: p.timeoutMs !== undefined && p.timeoutMs > 0 ? p.timeoutMs / 1000 : undefined,
        ...(thinking !== undefined ? { thinking } : {}),
        ...(images.length > 0 ? { images } : {}),
      });
    } catch (err) {
      share?.release(cacheKey);
      throw err;
    }
    void started.done.then((o) => {
      // Set before `done` settles for anyone else awaiting it (registered first).
      const final: DedupeEntry =
        o.status === "error"
          ? { ok: false, payload: { runId: o.runId, status: "error" }, error: o.error ? toErrorShape(o.error) : { code: "UNAVAILABLE", message: "agent run failed" } }
          : { ok: true, payload: { runId: o.runId, status: "ok" } };
      dedupe.set(cacheKey, final);
      share?.settle(cacheKey, final);
    });
    return { runId: started.runId, status: "started" };
  });

  methods.add("chat.history", "ChatHistoryParams", async ({ params }) => {
    const { key, agentId } = runtime.resolveKey(params.sessionKey);
    const store = await runtime.store(agentId);
    const entry = store.get(key);
    if (entry === undefined) return { sessionKey: params.sessionKey, messages: [] };
    const messages = await readHistory(store.transcriptPath(entry), { limit: params.limit });
    const out: Record<string, unknown> = { sessionKey: params.sessionKey, sessionId: entry.sessionId, messages };
    // Session → `thinkingDefault` (§3.9); absent when neither is set (off).
    const thinking = entry.thinkingLevel ?? normalizeThinkingLevel(runtimeConfig(runtime.options).agents?.defaults?.thinkingDefault);
    if (thinking !== undefined) out.thinkingLevel = thinking;
    return out;
  });

  methods.add("chat.abort", "ChatAbortParams", ({ params }) => {
    const { key } = runtime.resolveKey(params.sessionKey);
    if (params.runId === undefined) {
      const runIds = runtime.abortSession(key, "rpc");
      return { ok: true, aborted: runIds.length > 0, runIds };
    }
    const owner = runtime.keyOf(params.runId);
    if (owner === undefined) return { ok: true, aborted: false, runIds: [] };
    if (owner !== key) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "runId does not match sessionKey");
    const aborted = runtime.abort(params.runId, "rpc");
    return { ok: true, aborted, runIds: aborted ? [params.runId] : [] };
  });

  methods.add("chat.inject", "ChatInjectParams", async ({ ctx, params }) => {
    const { key, agentId } = runtime.resolveKey(params.sessionKey);
    const store = await runtime.store(agentId);
    const entry = store.get(key);
    if (entry === undefined) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "session not found");
    const file = store.transcriptPath(entry);
    // On the session lane: a run's thread is the transcript's only other writer.
    const written = await runtime.lanes.exclusive(key, async () => {
      if ((await transcriptTail(file)).empty) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "transcript file not found");
      const text = params.label !== undefined && params.label !== "" ? `[${params.label}]\n\n${params.message}` : params.message;
      const message: AssistantMessage = { role: "assistant", content: [{ type: "text", text }], api: "injected", provider: "gateway", model: "injected", usage: emptyUsage(), stopReason: "injected", timestamp: Date.now() };
      const writer = await TranscriptWriter.openForAppend(file, { sessionId: entry.sessionId, cwd: join(ctx.options.stateDir) });
      try {
        const [e] = await writer.appendMessages([message]);
        return { id: e?.id ?? randomBytes(4).toString("hex"), message };
      } finally {
        await writer.close();
      }
    });
    const payload = { runId: `inject-${written.id}`, sessionKey: params.sessionKey, seq: 0, state: "final", message: written.message };
    ctx.bus.broadcast("chat", payload);
    return { ok: true, messageId: written.id };
  });
}
