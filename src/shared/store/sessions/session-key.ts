/**
 * Session keys (§3.10): canonical store keys are `agent:<agentId>:<rest>`; `main`, the
 * configured `session.mainKey` and `agent:<id>:main` alias the agent's main session; a bare
 * key `foo` means `agent:<defaultAgent>:foo`; `global` and `unknown` are special.
 * Agent ids and session ids become path components, so both are validated here.
 */

/** Options of `canonicalSessionKey`. */
export interface SessionKeyOptions {
  /** Agent used for bare keys and `main`. Default `"main"`. */
  defaultAgentId?: string;
  /** `session.mainKey`. Default `"main"`. */
  mainKey?: string;
  /** `session.scope`; `"global"` maps main aliases to `global`. Default `"per-sender"`. */
  scope?: "per-sender" | "global";
}

const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** True for an agent id that is safe as a directory name. */
export function isValidAgentId(id: string): boolean {
  return AGENT_ID.test(id);
}

/** True for a session id that is safe as a file name (no separators, no `..`). */
export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id) && !id.includes("..");
}

/** `{agentId, rest}` of an `agent:<id>:<rest>` key, or null for any other key. */
export function parseAgentSessionKey(key: string): { agentId: string; rest: string } | null {
  const m = /^agent:([^:]+):(.+)$/.exec(key);
  if (m === null || !isValidAgentId(m[1]!)) return null;
  return { agentId: m[1]!.toLowerCase(), rest: m[2]! };
}

/** The canonical store key for what a client sent (trimmed). Empty input yields `null`. */
export function canonicalSessionKey(raw: string, opts: SessionKeyOptions = {}): string | null {
  const key = raw.trim();
  if (key === "") return null;
  const defaultAgent = (opts.defaultAgentId ?? "main").toLowerCase();
  const mainKey = opts.mainKey ?? "main";
  if (key === "global" || key === "unknown") return key;
  const parsed = parseAgentSessionKey(key);
  if (parsed !== null) {
    const isMain = parsed.rest === "main" || parsed.rest === mainKey;
    if (isMain && opts.scope === "global" && parsed.agentId === defaultAgent) return "global";
    return `agent:${parsed.agentId}:${isMain ? mainKey : parsed.rest}`;
  }
  if (key.startsWith("agent:")) return null; // agent: prefix with an invalid id
  if (key === "main" || key === mainKey) return opts.scope === "global" ? "global" : `agent:${defaultAgent}:${mainKey}`;
  return `agent:${defaultAgent}:${key}`;
}

/** The agent owning a canonical key (`global`/`unknown` belong to the default agent). */
export function agentIdOfKey(key: string, defaultAgentId = "main"): string {
  return parseAgentSessionKey(key)?.agentId ?? defaultAgentId.toLowerCase();
}
