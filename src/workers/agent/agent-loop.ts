/**
 * One agent turn (§11.3, §11.5): user message → model stream (assistant deltas) → tool calls →
 * tool results → next model call … → final reply. Events go to `onEvent` shaped like §3.8
 * (lifecycle start/end/error, assistant `{text, delta}` with the run's text so far, tool
 * start/result). The turn never throws: failures end in `lifecycle error` and a result with
 * `status:"error"`. The messages the turn produced come back in `newMessages` for the
 * caller to append to the transcript in one commit.
 *
 * Deadline and abort share one AbortController: its reason says which one fired
 * (`GW_ERR_AGENT_TIMEOUT` → AGENT_TIMEOUT, `GW_ERR_AGENT_ABORTED` → lifecycle end, aborted).
 */
import type { ThinkingLevel } from "../../shared/run-directives.js";
import { emptyUsage } from "../../shared/store/sessions/transcript-types.js";
import type { AssistantMessage, ImageContent, TextContent, ToolCallContent, ToolResultMessage, TranscriptMessage, Usage } from "../../shared/store/sessions/transcript-types.js";
import { AgentError } from "./agent-errors.js";
import type { AgentWireError } from "./agent-errors.js";
import { RunEmitter } from "./agent-events.js";
import type { AgentEvent } from "./agent-events.js";
import { callModel } from "./providers/call-model.js";
import type { ResolvedModel } from "./providers/model-chain.js";
import { addUsage, buildSystemPrompt, sanitizeHistory } from "./run-context.js";
import type { ContextFile } from "./workspace-context.js";
import { runTool } from "./tools/tool-registry.js";
import type { AgentTool } from "./tools/tool-types.js";

/** Most model calls one turn may make (a model looping on tools ends with GW_ERR_AGENT_TOOL_LOOP). */
export const MAX_MODEL_CALLS = 32;

/** Input of `runAgentTurn`. */
export interface AgentTurnInput {
  runId: string;
  sessionKey?: string;
  /** The user's message (text, optionally with images). */
  message: string | (TextContent | ImageContent)[];
  /** Earlier messages of the session (transcript order). */
  history: readonly TranscriptMessage[];
  /** Primary model then fallbacks (`resolveModelChain`). */
  models: readonly ResolvedModel[];
  tools: readonly AgentTool[];
  /** Real path of the workspace root (`workspaceRoot`). */
  workspace: string;
  /** The workspace's bootstrap files for the system prompt (workspace-context.ts). */
  workspaceContext?: readonly ContextFile[];
  extraSystemPrompt?: string;
  /** Deadline of the whole turn (ms). */
  timeoutMs: number;
  /** Caller's abort (chat.abort, /stop, client gone). */
  signal?: AbortSignal;
  onEvent: (ev: AgentEvent) => void;
  /**
   * Persists the turn's messages (transcript append). Awaited BEFORE the final lifecycle
   * event, so whoever sees `end` can read the turn back; a failure turns the run into an error.
   */
  persist?: (messages: readonly TranscriptMessage[]) => Promise<void>;
  /** SDK retries per model. Default 2. */
  maxRetries?: number;
  /** Thinking level of every model call of the turn. Default off. */
  thinking?: ThinkingLevel;
  now?: () => number;
}

/** Outcome of a turn (§11.4 result fields plus what the caller persists). */
export interface AgentTurnResult {
  status: "ok" | "aborted" | "error";
  /** Reply text (all assistant text of the turn). */
  text: string;
  /** user + assistant + toolResult messages of this turn, in order. */
  newMessages: TranscriptMessage[];
  startedAt: number;
  endedAt: number;
  provider?: string;
  model?: string;
  /** Usage summed over the turn's model calls. */
  usage: Usage;
  /** Prompt tokens of the last call (what the session records as context use). */
  lastInputTokens?: number;
  stopReason?: string;
  error?: AgentWireError;
}

function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError("GW_ERR_AGENT_PROVIDER_FAILED", err instanceof Error ? err.message : String(err));
}

/** Runs one turn. Never throws. */
export async function runAgentTurn(input: AgentTurnInput): Promise<AgentTurnResult> {
  const now = input.now ?? Date.now;
  const emitter = new RunEmitter(input.runId, input.onEvent, input.sessionKey, now);
  const startedAt = now();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new AgentError("GW_ERR_AGENT_TIMEOUT", `agent run timed out after ${Math.round(input.timeoutMs / 100) / 10} s`)), input.timeoutMs);
  const onAbort = (): void => ac.abort(new AgentError("GW_ERR_AGENT_ABORTED", "agent run aborted"));
  if (input.signal?.aborted === true) onAbort();
  else input.signal?.addEventListener("abort", onAbort, { once: true });

  const user: TranscriptMessage = { role: "user", content: input.message, timestamp: startedAt };
  const newMessages: TranscriptMessage[] = [user];
  const usage = emptyUsage();
  const result: AgentTurnResult = { status: "ok", text: "", newMessages, startedAt, endedAt: startedAt, usage };
  const specs = input.tools.map((t) => t.spec);
  const system = buildSystemPrompt({ workspace: input.workspace, tools: specs, extra: input.extraSystemPrompt, now: new Date(startedAt), context: input.workspaceContext });
  const context = [...sanitizeHistory(input.history), user];
  let text = "";
  let segment = "";
  let current: ResolvedModel | undefined;

  emitter.emit("lifecycle", { phase: "start", startedAt });
  try {
    for (let call = 0; ; call++) {
      if (call >= MAX_MODEL_CALLS) throw new AgentError("GW_ERR_AGENT_TOOL_LOOP", `the model made more than ${MAX_MODEL_CALLS} calls in one turn`);
      ac.signal.throwIfAborted();
      segment = "";
      const sep = text === "" ? "" : "\n\n";
      const onTextDelta = (d: string): void => {
        const delta = segment === "" ? sep + d : d;
        segment += d;
        text += delta;
        emitter.emit("assistant", { text, delta });
      };
      const { result: turn, model } = await callModel(input.models, { system, messages: context, tools: specs, signal: ac.signal, ...(input.thinking !== undefined ? { thinking: input.thinking } : {}) }, { onTextDelta }, { maxRetries: input.maxRetries });
      current = model;
      addUsage(usage, turn.usage);
      result.lastInputTokens = turn.usage.input + turn.usage.cacheRead + turn.usage.cacheWrite;
      const assistant: AssistantMessage = { role: "assistant", content: turn.content, api: model.api, provider: model.providerId, model: model.modelId, usage: turn.usage, stopReason: turn.stopReason, timestamp: now() };
      newMessages.push(assistant);
      context.push(assistant);
      result.stopReason = turn.stopReason;
      const calls = turn.content.filter((c): c is ToolCallContent => c.type === "toolCall");
      if (calls.length === 0) break;
      for (const c of calls) {
        ac.signal.throwIfAborted();
        emitter.emit("tool", { phase: "start", name: c.name, toolCallId: c.id, args: c.arguments });
        const out = await runTool(input.tools, c.name, c.arguments, { root: input.workspace, signal: ac.signal });
        const tr: ToolResultMessage = { role: "toolResult", toolCallId: c.id, toolName: c.name, content: [{ type: "text", text: out.text }], isError: out.isError, timestamp: now() };
        if (out.details !== undefined) tr.details = out.details;
        emitter.emit("tool", { phase: "result", name: c.name, toolCallId: c.id, isError: out.isError, result: out.text });
        newMessages.push(tr);
        context.push(tr);
      }
    }
  } catch (thrown) {
    const err = toAgentError(ac.signal.aborted ? ac.signal.reason : thrown);
    // Keep what was streamed of the interrupted call, marked as such.
    if (segment !== "" && newMessages.at(-1)?.role !== "assistant") {
      newMessages.push({ role: "assistant", content: [{ type: "text", text: segment }], provider: current?.providerId, model: current?.modelId, usage: emptyUsage(), stopReason: err.code === "GW_ERR_AGENT_ABORTED" ? "aborted" : "error", errorMessage: err.message, timestamp: now() });
    }
    result.status = err.code === "GW_ERR_AGENT_ABORTED" ? "aborted" : "error";
    if (result.status === "error") result.error = err.toWire();
    result.stopReason = result.status === "aborted" ? "aborted" : "error";
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener("abort", onAbort);
  }
  result.text = text;
  if (input.persist !== undefined) {
    try {
      await input.persist(newMessages);
    } catch (err) {
      result.status = "error";
      result.error = new AgentError("GW_ERR_AGENT_PERSIST_FAILED", `could not save the transcript: ${err instanceof Error ? err.message : String(err)}`).toWire();
    }
  }
  result.endedAt = now();
  if (current !== undefined) {
    result.provider = current.providerId;
    result.model = current.modelId;
  }
  if (result.status === "error") emitter.emit("lifecycle", { phase: "error", startedAt, endedAt: result.endedAt, error: result.error?.message ?? "error" });
  else emitter.emit("lifecycle", { phase: "end", startedAt, endedAt: result.endedAt, ...(result.status === "aborted" ? { aborted: true } : {}) });
  return result;
}
