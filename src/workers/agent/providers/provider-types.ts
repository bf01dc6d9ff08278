/**
 * The dialect-neutral model call the agent loop makes. Dialect modules (openai-completions.ts,
 * anthropic-messages.ts) translate transcript messages to their wire format, stream through
 * the official SDK, and return pi-ai shaped content, stop reason and usage.
 */
import type { StopReason, TextContent, ThinkingContent, ToolCallContent, TranscriptMessage, Usage } from "../../../shared/store/sessions/transcript-types.js";
import type { ThinkingLevel } from "../../../shared/run-directives.js";
import type { ResolvedModel } from "./model-chain.js";

/** A tool offered to the model (JSON Schema parameters). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One model call. */
export interface ModelCallRequest {
  model: ResolvedModel;
  system: string;
  messages: readonly TranscriptMessage[];
  tools: readonly ToolSpec[];
  signal: AbortSignal;
  /** The run's thinking level; dialects send it only to models marked `reasoning`. Default off. */
  thinking?: ThinkingLevel;
}

/** What a finished model call produced. */
export interface ModelCallResult {
  content: (TextContent | ThinkingContent | ToolCallContent)[];
  stopReason: StopReason;
  usage: Usage;
}

/** Streaming callbacks of a model call. */
export interface ModelCallHandlers {
  /** A new piece of assistant text. */
  onTextDelta(delta: string): void;
}

/** How a provider failure is treated: fallback-eligible kinds move on to the next model. */
export type FailureKind = "auth" | "rate_limit" | "server" | "connection" | "timeout" | "aborted" | "request" | "other";

/** A classified provider failure. */
export interface ProviderFailure {
  kind: FailureKind;
  status?: number;
  message: string;
}

/** Options of a dialect client. */
export interface DialectOptions {
  /** SDK retries on 429/5xx/connection errors (the SDK backs off exponentially and honours `retry-after`). Default 2. */
  maxRetries?: number;
}

/** What a dialect module exports. */
export interface Dialect {
  call(req: ModelCallRequest, handlers: ModelCallHandlers, opts: DialectOptions): Promise<ModelCallResult>;
  classify(err: unknown): ProviderFailure;
}

/** Parses tool-call arguments; malformed JSON is kept for the tool to report. */
export function parseToolArgs(raw: string): Record<string, unknown> {
  if (raw.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { _invalidArguments: raw };
  } catch {
    return { _invalidArguments: raw };
  }
}

/** Joins the text blocks of a content list. */
export function textOf(content: string | readonly { type: string; text?: string }[]): string {
  if (typeof content === "string") return content;
  return content
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("");
}
