/**
 * Model context of a turn: the system prompt and the transcript history made safe to send.
 * A crashed or aborted turn can leave an assistant message whose tool calls never got
 * results, or an assistant message recorded as an error; providers reject such histories
 * (OpenAI: "tool_calls must be followed by tool messages"), so they are repaired here.
 */
import { emptyUsage } from "../../shared/store/sessions/transcript-types.js";
import type { ToolCallContent, TranscriptMessage } from "../../shared/store/sessions/transcript-types.js";
import type { ToolSpec } from "./providers/provider-types.js";
import { workspaceContextSection, type ContextFile } from "./workspace-context.js";

/** Drops failed/empty assistant messages and orphan tool results; fills in missing results. */
export function sanitizeHistory(history: readonly TranscriptMessage[]): TranscriptMessage[] {
  const out: TranscriptMessage[] = [];
  let open = new Map<string, ToolCallContent>();
  const closeOpen = (): void => {
    for (const c of open.values()) {
      out.push({ role: "toolResult", toolCallId: c.id, toolName: c.name, content: [{ type: "text", text: "tool call interrupted; no result" }], isError: true, timestamp: 0 });
    }
    open = new Map();
  };
  for (const m of history) {
    if (m.role === "toolResult") {
      if (!open.has(m.toolCallId)) continue;
      open.delete(m.toolCallId);
      out.push(m);
      continue;
    }
    closeOpen();
    if (m.role === "assistant") {
      if (m.stopReason === "error" || m.stopReason === "aborted" || m.content.length === 0) continue;
      for (const c of m.content) if (c.type === "toolCall") open.set(c.id, c);
    }
    out.push(m);
  }
  closeOpen();
  return out;
}

/** The system prompt of a run. */
export function buildSystemPrompt(opts: { workspace: string; tools: readonly ToolSpec[]; extra?: string; now?: Date; context?: readonly ContextFile[] }): string {
  const lines = [
    "You are a personal assistant running inside clawgate.",
    `Your working directory (workspace) is ${opts.workspace}; file tools only reach files inside it.`,
    opts.tools.length > 0 ? `Tools: ${opts.tools.map((t) => t.name).join(", ")}.` : "No tools are available.",
    `Current time: ${(opts.now ?? new Date()).toISOString()}.`,
  ];
  const context = workspaceContextSection(opts.context ?? []);
  if (context !== "") lines.push("", context);
  if (opts.extra !== undefined && opts.extra.trim() !== "") lines.push("", opts.extra.trim());
  return lines.join("\n");
}

/** Adds `b` into `a` (token counters and cost). */
export function addUsage(a: ReturnType<typeof emptyUsage>, b: ReturnType<typeof emptyUsage>): void {
  a.input += b.input;
  a.output += b.output;
  a.cacheRead += b.cacheRead;
  a.cacheWrite += b.cacheWrite;
  a.totalTokens += b.totalTokens;
  for (const k of ["input", "output", "cacheRead", "cacheWrite", "total"] as const) a.cost[k] += b.cost[k];
}
