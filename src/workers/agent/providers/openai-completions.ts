/**
 * `openai-completions` dialect: OpenAI-compatible `/chat/completions` streaming (OpenAI,
 * OpenRouter, Ollama, vLLM, llama.cpp, LM Studio…) through the official `openai` SDK. The
 * SDK's `chat.completions.stream()` helper parses the SSE and assembles `tool_calls` deltas;
 * its client retries 429/5xx with backoff. Loaded only in the agent worker (dynamic import).
 */
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionContentPart } from "openai/resources/chat/completions";
import { emptyUsage } from "../../../shared/store/sessions/transcript-types.js";
import type { StopReason, TextContent, ToolCallContent, TranscriptMessage } from "../../../shared/store/sessions/transcript-types.js";
import { parseToolArgs, textOf } from "./provider-types.js";
import type { Dialect, ModelCallRequest, ModelCallResult, ProviderFailure, ToolSpec } from "./provider-types.js";
import type { ResolvedModel } from "./model-chain.js";

const clients = new Map<string, OpenAI>();

function clientFor(model: ResolvedModel, maxRetries: number): OpenAI {
  const key = JSON.stringify([model.baseUrl, model.apiKey, model.headers, maxRetries]);
  let c = clients.get(key);
  if (c === undefined) {
    // Local servers (Ollama, llama.cpp) need no key; the SDK insists on one, so send a placeholder.
    c = new OpenAI({ apiKey: model.apiKey ?? "unset", baseURL: model.baseUrl, maxRetries, defaultHeaders: model.headers });
    clients.set(key, c);
  }
  return c;
}

function toWire(system: string, messages: readonly TranscriptMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  if (system !== "") out.push({ role: "system", content: system });
  for (const m of messages) {
    if (m.role === "user") {
      if (typeof m.content === "string") out.push({ role: "user", content: m.content });
      else {
        const parts: ChatCompletionContentPart[] = m.content.map((c) =>
          c.type === "text" ? { type: "text", text: c.text } : { type: "image_url", image_url: { url: `data:${c.mimeType};base64,${c.data}` } },
        );
        out.push({ role: "user", content: parts });
      }
    } else if (m.role === "assistant") {
      const text = textOf(m.content);
      const calls = m.content.filter((c): c is ToolCallContent => c.type === "toolCall");
      out.push({
        role: "assistant",
        content: text === "" ? null : text,
        ...(calls.length > 0 ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: JSON.stringify(c.arguments) } })) } : {}),
      });
    } else {
      out.push({ role: "tool", tool_call_id: m.toolCallId, content: textOf(m.content) });
    }
  }
  return out;
}

function toolsWire(tools: readonly ToolSpec[]): ChatCompletionTool[] {
  return tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } }));
}

function stopReason(finish: string | null | undefined): StopReason {
  if (finish === "tool_calls" || finish === "function_call") return "toolUse";
  if (finish === "length") return "length";
  if (finish === "content_filter") return "error";
  return "stop";
}

/**
 * `reasoning_effort` for a model marked `reasoning` when the run thinks (xhigh is sent as
 * high: few models take it, and the others answer 400). Nothing otherwise: a model that does
 * not reason rejects the parameter.
 */
function reasoningEffort(req: ModelCallRequest): { reasoning_effort?: "minimal" | "low" | "medium" | "high" } {
  const level = req.thinking ?? "off";
  if (req.model.reasoning !== true || level === "off") return {};
  return { reasoning_effort: level === "xhigh" ? "high" : level };
}

async function call(req: ModelCallRequest, handlers: { onTextDelta(d: string): void }, opts: { maxRetries?: number }): Promise<ModelCallResult> {
  const client = clientFor(req.model, opts.maxRetries ?? 2);
  const stream = client.chat.completions.stream(
    {
      model: req.model.modelId,
      messages: toWire(req.system, req.messages),
      ...(req.tools.length > 0 ? { tools: toolsWire(req.tools) } : {}),
      ...(req.model.maxTokens !== undefined ? { max_tokens: req.model.maxTokens } : {}),
      ...reasoningEffort(req),
      stream_options: { include_usage: true },
    },
    { signal: req.signal },
  );
  stream.on("content", (delta) => handlers.onTextDelta(delta));
  const final = await stream.finalChatCompletion();
  const choice = final.choices[0];
  const content: (TextContent | ToolCallContent)[] = [];
  const text = choice?.message.content ?? "";
  if (text !== "") content.push({ type: "text", text });
  for (const tc of choice?.message.tool_calls ?? []) {
    if (tc.type === "function") content.push({ type: "toolCall", id: tc.id, name: tc.function.name, arguments: parseToolArgs(tc.function.arguments) });
  }
  const usage = emptyUsage();
  if (final.usage) {
    usage.cacheRead = final.usage.prompt_tokens_details?.cached_tokens ?? 0;
    usage.input = final.usage.prompt_tokens - usage.cacheRead;
    usage.output = final.usage.completion_tokens;
    usage.totalTokens = final.usage.total_tokens;
  }
  return { content, stopReason: stopReason(choice?.finish_reason), usage };
}

function classify(err: unknown): ProviderFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof OpenAI.APIUserAbortError) return { kind: "aborted", message };
  if (err instanceof OpenAI.APIConnectionTimeoutError) return { kind: "timeout", message };
  if (err instanceof OpenAI.APIConnectionError) return { kind: "connection", message };
  if (err instanceof OpenAI.APIError && typeof err.status === "number") {
    const status = err.status;
    const kind = status === 401 || status === 403 ? "auth" : status === 429 ? "rate_limit" : status === 408 ? "timeout" : status >= 500 ? "server" : "request";
    return { kind, status, message };
  }
  return { kind: "other", message };
}

/** The dialect. */
export const dialect: Dialect = { call, classify };
