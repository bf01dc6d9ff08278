/**
 * `anthropic-messages` dialect: Anthropic Messages streaming through the official
 * `@anthropic-ai/sdk`. The SDK's `messages.stream()` helper parses the SSE events and
 * assembles `input_json_delta` tool input; its client retries 429/5xx/529 with backoff.
 * Loaded only in the agent worker (dynamic import).
 */
import Anthropic from "@anthropic-ai/sdk";
import type { ContentBlockParam, MessageParam, Tool, ToolResultBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { emptyUsage } from "../../../shared/store/sessions/transcript-types.js";
import type { StopReason, TextContent, ThinkingContent, ToolCallContent, TranscriptMessage } from "../../../shared/store/sessions/transcript-types.js";
import { THINKING_BUDGET_TOKENS } from "../../../shared/run-directives.js";
import { textOf } from "./provider-types.js";
import type { Dialect, ModelCallRequest, ModelCallResult, ProviderFailure, ToolSpec } from "./provider-types.js";
import type { ResolvedModel } from "./model-chain.js";

/** Anthropic requires `max_tokens`; used when the model entry has no `maxTokens`. */
const DEFAULT_MAX_TOKENS = 4096;
/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;
/** Tokens kept for the answer when the thinking budget must shrink to fit `maxTokens`. */
const MIN_ANSWER_TOKENS = 1024;
const clients = new Map<string, Anthropic>();

function clientFor(model: ResolvedModel, maxRetries: number): Anthropic {
  const key = JSON.stringify([model.baseUrl, model.apiKey, model.headers, maxRetries]);
  let c = clients.get(key);
  if (c === undefined) {
    c = new Anthropic({ apiKey: model.apiKey ?? process.env.ANTHROPIC_API_KEY ?? "unset", baseURL: model.baseUrl ?? null, maxRetries, defaultHeaders: model.headers });
    clients.set(key, c);
  }
  return c;
}

type ImageMime = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

/**
 * `withThinking`: the call thinks, so the turn's earlier thinking blocks go back verbatim
 * (signed; Anthropic requires them before the tool use they led to). Otherwise they stay out.
 */
function toWire(messages: readonly TranscriptMessage[], withThinking: boolean): MessageParam[] {
  const out: MessageParam[] = [];
  for (const m of messages) {
    if (m.role === "user") {
      const content: ContentBlockParam[] | string =
        typeof m.content === "string"
          ? m.content
          : m.content.map((c) => (c.type === "text" ? { type: "text", text: c.text } : { type: "image", source: { type: "base64", media_type: c.mimeType as ImageMime, data: c.data } }));
      out.push({ role: "user", content });
    } else if (m.role === "assistant") {
      const blocks: ContentBlockParam[] = [];
      for (const c of m.content) {
        if (c.type === "text" && c.text !== "") blocks.push({ type: "text", text: c.text });
        else if (c.type === "thinking" && withThinking && c.thinkingSignature !== undefined) {
          blocks.push(c.redacted === true ? { type: "redacted_thinking", data: c.thinkingSignature } : { type: "thinking", thinking: c.thinking, signature: c.thinkingSignature });
        } else if (c.type === "toolCall") blocks.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments });
      }
      if (blocks.length > 0) out.push({ role: "assistant", content: blocks });
    } else {
      // Tool results travel in a user turn; consecutive ones share it.
      const block: ToolResultBlockParam = { type: "tool_result", tool_use_id: m.toolCallId, content: textOf(m.content), is_error: m.isError };
      const prev = out.at(-1);
      if (prev?.role === "user" && Array.isArray(prev.content) && prev.content.every((b) => b.type === "tool_result")) prev.content.push(block);
      else out.push({ role: "user", content: [block] });
    }
  }
  return out;
}

function toolsWire(tools: readonly ToolSpec[]): Tool[] {
  return tools.map((t) => ({ name: t.name, description: t.description, input_schema: { type: "object", ...t.parameters } }));
}

function stopReason(reason: string | null): StopReason {
  if (reason === "tool_use") return "toolUse";
  if (reason === "max_tokens") return "length";
  if (reason === "refusal") return "error";
  return "stop";
}

/**
 * Extended thinking for a model marked `reasoning` when the run thinks: `budget_tokens` by
 * level, `max_tokens` raised to leave DEFAULT_MAX_TOKENS for the answer (capped by the model's
 * `maxTokens`, the budget shrinking to fit; under Anthropic's 1,024 minimum it is off).
 */
function thinkingParams(req: ModelCallRequest): { max_tokens: number; thinking?: { type: "enabled"; budget_tokens: number } } {
  const level = req.thinking ?? "off";
  const base = req.model.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (req.model.reasoning !== true || level === "off") return { max_tokens: base };
  const wanted = THINKING_BUDGET_TOKENS[level];
  const maxTokens = req.model.maxTokens !== undefined ? Math.min(req.model.maxTokens, DEFAULT_MAX_TOKENS + wanted) : DEFAULT_MAX_TOKENS + wanted;
  const budget = Math.min(wanted, maxTokens - MIN_ANSWER_TOKENS);
  if (budget < MIN_THINKING_BUDGET) return { max_tokens: base };
  return { max_tokens: maxTokens, thinking: { type: "enabled", budget_tokens: budget } };
}

async function call(req: ModelCallRequest, handlers: { onTextDelta(d: string): void }, opts: { maxRetries?: number }): Promise<ModelCallResult> {
  const client = clientFor(req.model, opts.maxRetries ?? 2);
  const thinking = thinkingParams(req);
  const stream = client.messages.stream(
    {
      model: req.model.modelId,
      ...thinking,
      messages: toWire(req.messages, thinking.thinking !== undefined),
      ...(req.system !== "" ? { system: req.system } : {}),
      ...(req.tools.length > 0 ? { tools: toolsWire(req.tools) } : {}),
    },
    { signal: req.signal },
  );
  stream.on("text", (delta) => handlers.onTextDelta(delta));
  const final = await stream.finalMessage();
  const content: (TextContent | ThinkingContent | ToolCallContent)[] = [];
  for (const b of final.content) {
    if (b.type === "text") content.push({ type: "text", text: b.text });
    else if (b.type === "thinking") content.push({ type: "thinking", thinking: b.thinking, thinkingSignature: b.signature });
    else if (b.type === "redacted_thinking") content.push({ type: "thinking", thinking: "", thinkingSignature: b.data, redacted: true });
    else if (b.type === "tool_use") content.push({ type: "toolCall", id: b.id, name: b.name, arguments: (b.input ?? {}) as Record<string, unknown> });
  }
  const usage = emptyUsage();
  usage.input = final.usage.input_tokens;
  usage.output = final.usage.output_tokens;
  usage.cacheRead = final.usage.cache_read_input_tokens ?? 0;
  usage.cacheWrite = final.usage.cache_creation_input_tokens ?? 0;
  usage.totalTokens = usage.input + usage.output + usage.cacheRead + usage.cacheWrite;
  return { content, stopReason: stopReason(final.stop_reason), usage };
}

function classify(err: unknown): ProviderFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Anthropic.APIUserAbortError) return { kind: "aborted", message };
  if (err instanceof Anthropic.APIConnectionTimeoutError) return { kind: "timeout", message };
  if (err instanceof Anthropic.APIConnectionError) return { kind: "connection", message };
  if (err instanceof Anthropic.APIError && typeof err.status === "number") {
    const status = err.status;
    const kind = status === 401 || status === 403 ? "auth" : status === 429 ? "rate_limit" : status === 408 ? "timeout" : status >= 500 ? "server" : "request";
    return { kind, status, message };
  }
  return { kind: "other", message };
}

/** The dialect. */
export const dialect: Dialect = { call, classify };
