/**
 * `agent` (two-stage, §3.5), `agent.wait` (§3.6), `agent.identity.get` (§3.7).
 *
 * `agent`: dedupe `agent:<idempotencyKey>` (gateway-global, 5 min, 1000 entries) → replay the
 * cached answer once (for a run still in flight that is its ack); else resolve the session
 * (persisted), cache and send the ack `{runId, status:"accepted", acceptedAt}`, then the final
 * on the same request id — `{runId, status:"ok", summary:"completed", result}` or `ok:false`
 * with payload `{runId, status:"error", summary}` — and cache it for replays. In a cluster
 * the key is also claimed in the shared dedupe store before the run starts
 * (shared-idempotency.ts): a retry on another gateway replays the original's final, or its
 * ack while it runs, and never starts a second run.
 */
import { GatewayError, toErrorShape } from "../../shared/errors.js";
import type { ErrorShape } from "../../shared/errors.js";
import { RESPONDED } from "../router.js";
import type { MethodCall, MethodTable } from "../router.js";
import { agentIdentity, agentSettings } from "./agent-settings.js";
import type { AgentRuntime, RunOutcome } from "./agent-runtime.js";
import type { TtlCache } from "./ttl-cache.js";
import { finalOf, type SharedIdempotencySlot } from "./shared-idempotency.js";
import type { ImageContent } from "../../shared/store/sessions/transcript-types.js";
import { normalizeThinkingLevel, splitMediaDirectives, THINKING_LEVELS, type ThinkingLevel } from "../../shared/run-directives.js";

/** A cached answer of `agent` / `chat.send`. */
export type { DedupeEntry } from "./run-results.js";
import type { DedupeEntry } from "./run-results.js";

/** Default `agent.wait` timeout. */
const WAIT_DEFAULT_MS = 30_000;

/** Sends a cached answer as the request's only response. */
export function replay(call: MethodCall<unknown>, e: DedupeEntry): unknown {
  if (e.ok) return e.payload;
  call.respond(false, e.payload, e.error);
  return RESPONDED;
}

/** The `agent` final payload of an outcome (§3.5 step 6, §11.4). */
export function agentFinal(o: RunOutcome): DedupeEntry {
  if (o.status === "error") {
    const error = o.error !== undefined ? toErrorShape(o.error) : { code: "UNAVAILABLE" as const, message: "agent run failed" };
    return { ok: false, payload: { runId: o.runId, status: "error", summary: error.message }, error };
  }
  const meta: Record<string, unknown> = {
    durationMs: Math.max(0, o.endedAt - o.startedAt),
    agentMeta: { sessionId: o.sessionId, provider: o.provider, model: o.model, usage: o.usage },
  };
  if (o.status === "aborted") meta.aborted = true;
  if (o.stopReason !== undefined) meta.stopReason = o.stopReason;
  // `MEDIA:<url>` lines become the payload's media (§11.4 result shape).
  const { text, mediaUrls } = splitMediaDirectives(o.text);
  const payloads = text !== "" || mediaUrls.length > 0 ? [{ text, mediaUrl: mediaUrls[0] ?? null, ...(mediaUrls.length > 0 ? { mediaUrls } : {}) }] : [];
  return { ok: true, payload: { runId: o.runId, status: "ok", summary: "completed", result: { payloads, meta } } };
}

export function registerAgentMethods(methods: MethodTable, runtime: AgentRuntime, dedupe: TtlCache<DedupeEntry>, shared: SharedIdempotencySlot = {}): void {
  methods.add("agent", "AgentParams", async (call) => {
    const p = call.params;
    const cacheKey = `agent:${p.idempotencyKey}`;
    const cached = dedupe.get(cacheKey);
    if (cached !== undefined) return replay(call, cached);
    const message = p.message.trim();
    if (message === "") throw invalidAgent("message required");
    const thinking = runThinking(p.thinking, "agent");
    const images = await runImages(p.attachments, "agent");
    if (p.sessionKey === undefined && p.agentId === undefined && p.sessionId === undefined && p.to === undefined) {
      const error: ErrorShape = { code: "UNAVAILABLE", message: "Pass --to <E.164>, --session-id, or --agent to choose a session" };
      const ack = { runId: p.idempotencyKey, status: "accepted", acceptedAt: Date.now() };
      call.respond(true, ack);
      const final: DedupeEntry = { ok: false, payload: { runId: p.idempotencyKey, status: "error", summary: error.message }, error };
      dedupe.set(cacheKey, final);
      return replay(call, final);
    }
    const share = shared.current;
    if (share !== undefined) {
      const claim = await share.claim(cacheKey, { ok: true, payload: { runId: p.idempotencyKey, status: "accepted", acceptedAt: Date.now() } });
      if (!claim.won) {
        const final = await finalOf(share, cacheKey, p.idempotencyKey, claim.final, async (id) => (await runtime.waits.wait(id, 0)).status !== "timeout");
        const known = final ?? claim.ack;
        return known !== undefined ? replay(call, known) : { runId: p.idempotencyKey, status: "in_flight" };
      }
    }
    let started;
    try {
      started = await runtime.start({
        runId: p.idempotencyKey,
        message,
        // Only `to` (no channel delivery here): the main session, as an E.164 target maps to it.
        sessionKey: p.sessionKey ?? (p.agentId === undefined && p.sessionId === undefined ? "main" : undefined),
        agentId: p.agentId,
        sessionId: p.sessionId,
        timeoutSeconds: p.timeout,
        extraSystemPrompt: p.extraSystemPrompt,
        ...(thinking !== undefined ? { thinking } : {}),
        ...(images.length > 0 ? { images } : {}),
        label: p.label,
        spawnedBy: p.spawnedBy,
      });
    } catch (err) {
      share?.release(cacheKey);
      const shape = toErrorShape(err);
      if (shape.code === "INVALID_REQUEST") shape.message = `invalid agent params: ${shape.message}`;
      call.respond(false, undefined, shape);
      return RESPONDED;
    }
    const ack = { runId: started.runId, status: "accepted", acceptedAt: Date.now() };
    dedupe.set(cacheKey, { ok: true, payload: ack });
    call.respond(true, ack);
    const final = agentFinal(await started.done);
    dedupe.set(cacheKey, final);
    share?.settle(cacheKey, final);
    return replay(call, final);
  });

  methods.add("agent.wait", "AgentWaitParams", ({ params }) => runtime.waits.wait(params.runId, params.timeoutMs ?? WAIT_DEFAULT_MS));

  methods.add("agent.identity.get", "AgentIdentityGetParams", ({ ctx, params }) => {
    const agentId = params.sessionKey !== undefined || params.agentId !== undefined ? runtime.resolveKey(params.sessionKey ?? "", params.agentId).agentId : agentSettings(ctx.options).defaultAgentId;
    return { agentId, ...agentIdentity(ctx.options, agentId) };
  });
}

function invalidAgent(message: string): GatewayError {
  return new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid agent params: ${message}`);
}

/** A run's `thinking` param: undefined when absent; an unknown level is INVALID_REQUEST. */
export function runThinking(raw: string | undefined, method: string): ThinkingLevel | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const level = normalizeThinkingLevel(raw);
  if (level === undefined) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid ${method} params: unknown thinking level "${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}" (use ${THINKING_LEVELS.join(", ")})`);
  return level;
}

/**
 * A run's `attachments` as image blocks; a malformed image is INVALID_REQUEST naming it. The
 * parser loads on the first run with attachments (not at start-up).
 */
export async function runImages(raw: readonly unknown[] | undefined, method: string): Promise<ImageContent[]> {
  if (raw === undefined || raw.length === 0) return [];
  const { imageAttachments } = await import("./attachments.js");
  try {
    return imageAttachments(raw);
  } catch (err) {
    throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid ${method} params: ${(err as Error).message}`);
  }
}
