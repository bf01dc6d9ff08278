/**
 * Builds the HealthSummary of §3.2 and the StatusSummary. Channel and agent parts stay
 * empty/default until those subsystems exist; worker supervisor states are reported
 * under `workers` (an addition clients ignore), as modules contribute them.
 */
import { DEFAULT_AGENT_ID, readSessionsInfo } from "../../shared/store/sessions/sessions-info.js";

/** A worker supervisor's state as the `workers` health section lists it. */
export interface WorkerHealth {
  name: string;
  state: string;
  restarts: number;
  generation: number;
  lastError?: string;
}

/**
 * What a summary is built from: the state dir (session store) and the modules' named
 * sections. `channels` and `workers` have fixed places in the summary (empty when no
 * module contributes them); any other section is added under its own name.
 */
export interface HealthInputs {
  stateDir: string;
  sections: Record<string, unknown>;
}

function channelsOf(sections: Record<string, unknown>): Record<string, unknown> {
  const c = sections.channels;
  return c && typeof c === "object" && !Array.isArray(c) ? (c as Record<string, unknown>) : {};
}

/** A fresh HealthSummary. */
export async function buildHealthSummary(src: HealthInputs): Promise<Record<string, unknown>> {
  const started = Date.now();
  const sessions = await readSessionsInfo(src.stateDir);
  const { channels: _channels, workers, ...other } = src.sections;
  const channels = channelsOf(src.sections);
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
    workers: workers ?? [],
    ...other,
  };
}

/** The StatusSummary of §3.2. */
export async function buildStatusSummary(src: HealthInputs, queuedSystemEvents: readonly string[]): Promise<Record<string, unknown>> {
  const sessions = await readSessionsInfo(src.stateDir);
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
    channelSummary: Object.keys(channelsOf(src.sections)).map((id) => `${id}: configured`),
    queuedSystemEvents: [...queuedSystemEvents],
    sessions: {
      paths: [sessions.path],
      count: sessions.count,
      defaults: { model: null, contextTokens: null },
      recent,
      byAgent: [{ agentId: DEFAULT_AGENT_ID, path: sessions.path, count: sessions.count, recent }],
    },
    workers: src.sections.workers ?? [],
  };
}
