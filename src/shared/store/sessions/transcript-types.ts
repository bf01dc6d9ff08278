/**
 * Transcript records, §11.3 layout (pi-coding-agent session format v3): a header line, then
 * entries chained by `parentId`; `type:"message"` entries carry pi-ai messages.
 */

/** `{type:"text"}` content block. */
export interface TextContent {
  type: "text";
  text: string;
}
/** `{type:"image"}` content block (base64 data). */
export interface ImageContent {
  type: "image";
  data: string;
  mimeType: string;
}
/** Model reasoning kept in the transcript. */
export interface ThinkingContent {
  type: "thinking";
  thinking: string;
  /** Anthropic's signature (or a redacted block's data): sent back verbatim in later calls of the turn. */
  thinkingSignature?: string;
  /** An Anthropic `redacted_thinking` block (its data in `thinkingSignature`). */
  redacted?: boolean;
}
/** A tool call requested by the model. */
export interface ToolCallContent {
  type: "toolCall";
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Token usage of one assistant message (pi-ai shape). */
export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  cost: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
}

/** Why an assistant message ended. */
export type StopReason = "stop" | "length" | "toolUse" | "error" | "aborted" | "injected";

export interface UserMessage {
  role: "user";
  content: string | (TextContent | ImageContent)[];
  timestamp: number;
}
export interface AssistantMessage {
  role: "assistant";
  content: (TextContent | ThinkingContent | ToolCallContent)[];
  api?: string;
  provider?: string;
  model?: string;
  usage: Usage;
  stopReason: StopReason;
  errorMessage?: string;
  timestamp: number;
}
export interface ToolResultMessage {
  role: "toolResult";
  toolCallId: string;
  toolName: string;
  content: (TextContent | ImageContent)[];
  details?: unknown;
  isError: boolean;
  timestamp: number;
}
/** A pi-ai message as stored in a `message` entry. */
export type TranscriptMessage = UserMessage | AssistantMessage | ToolResultMessage;

/** First line of every transcript. */
export interface TranscriptHeader {
  type: "session";
  version: 3;
  id: string;
  timestamp: string;
  cwd: string;
}
/** A `message` entry. Other entry types (`compaction`, `label`, …) are kept but not interpreted. */
export interface MessageEntry {
  type: "message";
  id: string;
  parentId: string | null;
  timestamp: string;
  message: TranscriptMessage;
}
/** Any line after the header. */
export type TranscriptEntry = MessageEntry | { type: string; id?: string; parentId?: string | null; timestamp?: string; [k: string]: unknown };

/** A usage record with every counter zero (injected messages, failed calls). */
export function emptyUsage(): Usage {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } };
}

/** True for a `message` entry whose message has a known role. */
export function isMessageEntry(e: unknown): e is MessageEntry {
  if (typeof e !== "object" || e === null) return false;
  const r = e as { type?: unknown; message?: { role?: unknown } };
  return r.type === "message" && typeof r.message === "object" && r.message !== null && ["user", "assistant", "toolResult"].includes(String(r.message.role));
}
