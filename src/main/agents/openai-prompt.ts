/**
 * Prompt building of the OpenAI-compatible endpoints (§7.4, §7.5): system/developer texts →
 * extra system prompt; user/assistant/tool entries → the current message, with earlier
 * entries quoted as context. Agent and session selection from headers, `model` and `user`.
 */

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Text of a message `content`: a string, or `text`/`input_text`/`output_text` parts joined by newlines. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) => (isObj(p) && (p.type === "text" || p.type === "input_text" || p.type === "output_text") && typeof p.text === "string" ? p.text : ""))
    .filter((t) => t !== "")
    .join("\n");
}

/** One conversation entry, normalised. */
export interface PromptEntry {
  role: string;
  text: string;
  name?: string;
}

/** `{message, extraSystemPrompt}` or null when there is no user/tool/assistant text. */
export function buildPrompt(entries: readonly PromptEntry[]): { message: string; extraSystemPrompt?: string } | null {
  const system = entries.filter((e) => (e.role === "system" || e.role === "developer") && e.text.trim() !== "").map((e) => e.text.trim());
  const convo = entries.filter((e) => ["user", "assistant", "tool", "function"].includes(e.role) && e.text.trim() !== "");
  if (convo.length === 0) return null;
  let currentIdx = -1;
  for (let i = convo.length - 1; i >= 0; i--) {
    if (convo[i]!.role !== "assistant") {
      currentIdx = i;
      break;
    }
  }
  if (currentIdx < 0) currentIdx = convo.length - 1;
  const label = (e: PromptEntry): string => (e.role === "user" ? "User" : e.role === "assistant" ? "Assistant" : `Tool:${e.name ?? "tool"}`);
  const current = convo[currentIdx]!;
  const earlier = convo.slice(0, currentIdx);
  const message =
    earlier.length === 0
      ? current.text
      : `[Chat messages since your last reply - for context]\n${earlier.map((e) => `${label(e)}: ${e.text}`).join("\n")}\n\n[Current message - respond to this]\n${label(current)}: ${current.text}`;
  const out: { message: string; extraSystemPrompt?: string } = { message };
  if (system.length > 0) out.extraSystemPrompt = system.join("\n\n");
  return out;
}

const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** Agent selection: header → `model` (`clawdbot:<id>`, `clawdbot/<id>`, `agent:<id>`) → `main`. */
export function selectAgent(header: string, model: unknown): string {
  const h = header.trim();
  if (h !== "" && AGENT_ID.test(h)) return h.toLowerCase();
  if (typeof model === "string") {
    const m = /^(?:clawdbot[:/]|agent:)(.+)$/i.exec(model.trim());
    if (m && AGENT_ID.test(m[1]!)) return m[1]!.toLowerCase();
  }
  return "main";
}

/** Session: header → `agent:<id>:<prefix>-user:<user>` → fresh `agent:<id>:<prefix>:<uuid>`. */
export function selectSession(header: string, agentId: string, prefix: string, user: unknown, uuid: string): string {
  const h = header.trim();
  if (h !== "") return h;
  if (typeof user === "string" && user.trim() !== "") return `agent:${agentId}:${prefix}-user:${user.trim().slice(0, 128)}`;
  return `agent:${agentId}:${prefix}:${uuid}`;
}
