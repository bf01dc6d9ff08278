/**
 * The human summary `clawdbot health`, `clawdbot gateway health` and `clawdbot status`
 * print without `--json`:
 *
 *   Gateway:  reachable at ws://127.0.0.1:18789 (clawgate 2026.1.24, up 3h 12m)
 *   Channels: none configured                     (or one "id: state" per channel)
 *   Sessions: 3 (most recent: agent:main:main, 5m ago)
 *   Nodes:    1 connected, 2 paired
 *   Cluster:  prod as gw-a, broker connected to nats://… (rtt 0.4 ms, 0 reconnects)
 *   Members:  gw-a (this gateway), gw-b (12 presence entries)
 *
 * The last two only for a gateway in a cluster (`health`; see cluster-summary.ts).
 * Version and uptime come from `hello-ok` (`server.version`, `snapshot.uptimeMs`), the
 * rest from the method's payload (HealthSummary / StatusSummary) and `node.list`. Missing
 * fields print as "unknown" instead of failing: the summary is for eyes, `--json` for tools.
 */
import { clusterSections, formatClusterLines } from "./cluster-summary.js";

/** What the summary is built from. */
export interface SummaryInput {
  url: string;
  method: "health" | "status";
  hello: unknown;
  payload: unknown;
  /** `node.list` payload, or the error message when it failed. */
  nodes: unknown;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** `3h 12m`, `45s`, `2d 4h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function channelLines(method: SummaryInput["method"], payload: Obj): string[] {
  if (method === "status") {
    const lines = Array.isArray(payload.channelSummary) ? payload.channelSummary.filter((l): l is string => typeof l === "string") : [];
    // Channel lines may carry ANSI styling from channel plugins; the summary is plain.
    return lines.map((l) => l.replace(/\u001b\[[0-9;]*m/g, ""));
  }
  const channels = obj(payload.channels) ?? {};
  return Object.entries(channels).map(([id, raw]) => {
    const c = obj(raw) ?? {};
    const flags = ["configured", "linked", "running", "connected"].filter((k) => c[k] === true);
    const err = typeof c.lastError === "string" && c.lastError !== "" ? `, error: ${c.lastError}` : "";
    return `${id}: ${flags.length ? flags.join(", ") : "not configured"}${err}`;
  });
}

function sessionsLine(method: SummaryInput["method"], payload: Obj): string {
  const s = obj(payload.sessions);
  if (!s || typeof s.count !== "number") return "unknown";
  const recent = Array.isArray(s.recent) ? obj(s.recent[0]) : undefined;
  const key = typeof recent?.key === "string" ? recent.key : undefined;
  const age = typeof recent?.age === "number" ? `, ${formatDuration(recent.age)} ago` : "";
  const queued = method === "status" && Array.isArray(payload.queuedSystemEvents) && payload.queuedSystemEvents.length > 0 ? `; ${payload.queuedSystemEvents.length} queued system events` : "";
  return `${s.count}${key ? ` (most recent: ${key}${age})` : ""}${queued}`;
}

function nodesLine(nodes: unknown): string {
  if (typeof nodes === "string") return `unknown (${nodes})`;
  const list = obj(nodes)?.nodes;
  if (!Array.isArray(list)) return "unknown";
  const connected = list.filter((n) => obj(n)?.connected === true).length;
  const paired = list.filter((n) => obj(n)?.paired === true).length;
  return `${connected} connected, ${paired} paired`;
}

/** The summary text (lines ending in "\n"). */
export function formatGatewaySummary(input: SummaryInput): string {
  const hello = obj(input.hello) ?? {};
  const version = typeof obj(hello.server)?.version === "string" ? (obj(hello.server)?.version as string) : "unknown version";
  const uptimeMs = obj(hello.snapshot)?.uptimeMs;
  const uptime = typeof uptimeMs === "number" ? `, up ${formatDuration(uptimeMs)}` : "";
  const payload = obj(input.payload) ?? {};
  const channels = channelLines(input.method, payload);
  const lines = [
    `Gateway:  reachable at ${input.url} (version ${version}${uptime})`,
    `Channels: ${channels.length === 0 ? "none configured" : channels[0]}`,
    ...channels.slice(1).map((l) => `          ${l}`),
    `Sessions: ${sessionsLine(input.method, payload)}`,
    `Nodes:    ${nodesLine(input.nodes)}`,
    ...formatClusterLines(clusterSections(payload)),
  ];
  return `${lines.join("\n")}\n`;
}
