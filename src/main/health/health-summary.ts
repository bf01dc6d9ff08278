/**
 * Builds the HealthSummary of §3.2 and the StatusSummary. Channel and agent parts stay
 * empty/default until those subsystems exist; worker supervisor states are reported
 * under `workers` (an addition clients ignore).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface WorkerHealth {
  name: string;
  state: string;
  restarts: number;
  generation: number;
  lastError?: string;
}

export interface HealthSources {
  stateDir: () => string;
  /** Per-channel summaries keyed by channel id (empty until channels exist). */
  channels: () => Record<string, unknown>;
  workers: () => WorkerHealth[];
}

export const DEFAULT_AGENT_ID = "main";
export const MAIN_SESSION_KEY = "agent:main:main";

export interface SessionsInfo {
  path: string;
  count: number;
  recent: { key: string; updatedAt: number | null; age: number | null }[];
}

/** Reads the default agent's session store (missing → empty). */
export async function readSessionsInfo(stateDir: string, agentId = DEFAULT_AGENT_ID): Promise<SessionsInfo> {
  const path = join(stateDir, "agents", agentId, "sessions", "sessions.json");
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

/** A fresh HealthSummary. */
export async function buildHealthSummary(src: HealthSources): Promise<Record<string, unknown>> {
  const started = Date.now();
  const sessions = await readSessionsInfo(src.stateDir());
  const channels = src.channels();
  return {
    ok: true,
    ts: Date.now(),
    durationMs: Date.now() - started,
    channels,
    channelOrder: Object.keys(channels),
    channelLabels: Object.fromEntries(Object.keys(channels).map((id) => [id, id])),
    heartbeatSeconds: 0,
    defaultAgentId: DEFAULT_AGENT_ID,
    agents: [
      {
        agentId: DEFAULT_AGENT_ID,
        isDefault: true,
        heartbeat: { enabled: false, every: "disabled", everyMs: null, prompt: "", target: "last", ackMaxChars: 300 },
        sessions,
      },
    ],
    sessions,
    workers: src.workers(),
  };
}

/** The StatusSummary of §3.2. */
export async function buildStatusSummary(
  src: HealthSources,
  queuedSystemEvents: readonly string[],
): Promise<Record<string, unknown>> {
  const sessions = await readSessionsInfo(src.stateDir());
  const recent = sessions.recent.map((r) => ({
    agentId: DEFAULT_AGENT_ID,
    key: r.key,
    kind: "direct",
    updatedAt: r.updatedAt,
    age: r.age,
    totalTokens: null,
    remainingTokens: null,
    percentUsed: null,
    model: null,
    contextTokens: null,
    flags: [],
  }));
  return {
    heartbeat: { defaultAgentId: DEFAULT_AGENT_ID, agents: [{ agentId: DEFAULT_AGENT_ID, enabled: false, every: "disabled", everyMs: null }] },
    channelSummary: Object.keys(src.channels()).map((id) => `${id}: configured`),
    queuedSystemEvents: [...queuedSystemEvents],
    sessions: {
      paths: [sessions.path],
      count: sessions.count,
      defaults: { model: null, contextTokens: null },
      recent,
      byAgent: [{ agentId: DEFAULT_AGENT_ID, path: sessions.path, count: sessions.count, recent }],
    },
    workers: src.workers(),
  };
}
