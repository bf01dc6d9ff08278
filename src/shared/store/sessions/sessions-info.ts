/**
 * A summary of an agent's session store for `health` and `status` (§3.2): the store's
 * path, how many sessions it holds and the five most recently updated. Read from disk on
 * each call (health refreshes are timed and single-flight); a missing or unreadable store
 * is an empty one.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export const DEFAULT_AGENT_ID = "main";
export const MAIN_SESSION_KEY = "agent:main:main";

export interface SessionsInfo {
  path: string;
  count: number;
  recent: { key: string; updatedAt: number | null; age: number | null }[];
}

/** `agents/<agentId>/sessions/sessions.json` under the state dir. */
export function sessionStorePath(stateDir: string, agentId = DEFAULT_AGENT_ID): string {
  return join(stateDir, "agents", agentId, "sessions", "sessions.json");
}

/** Reads the agent's session store summary (missing → empty). */
export async function readSessionsInfo(stateDir: string, agentId = DEFAULT_AGENT_ID): Promise<SessionsInfo> {
  const path = sessionStorePath(stateDir, agentId);
  let entries: [string, { updatedAt?: unknown }][] = [];
  try {
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    if (parsed && typeof parsed === "object") entries = Object.entries(parsed as Record<string, { updatedAt?: unknown }>);
  } catch {
    entries = [];
  }
  const now = Date.now();
  const recent = entries
    .map(([key, v]) => {
      const updatedAt = typeof v?.updatedAt === "number" ? v.updatedAt : null;
      return { key, updatedAt, age: updatedAt === null ? null : now - updatedAt };
    })
    .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))
    .slice(0, 5);
  return { path, count: entries.length, recent };
}
