/**
 * What the agents module reads from the live config at each use (the `agents`, `models`,
 * `tools`, `session` and `ui` sections reload with kind "none": read dynamically, §8.4).
 * Key names are the reference's (§8.3, §11).
 */
import { readAgentRuntimeConfig } from "../../workers/agent/agent-config.js";
import type { AgentRuntimeConfig } from "../../workers/agent/agent-config.js";
import type { VerboseLevel } from "../../workers/agent/agent-events.js";
import type { SessionKeyOptions } from "../../shared/store/sessions/session-key.js";
import type { GatewayOptions } from "../options.js";

/** Default `agents.defaults.maxConcurrent`. */
export const DEFAULT_MAX_CONCURRENT = 4;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The run config slice handed to pool threads. */
export function runtimeConfig(opts: GatewayOptions): AgentRuntimeConfig {
  return readAgentRuntimeConfig(opts.agentConfig ?? {});
}

/** Settings the main thread applies (not sent to threads). */
export interface AgentSettings {
  /** `agents.defaults.maxConcurrent` (default 4). */
  maxConcurrent: number;
  /** `agents.defaults.verboseDefault` (default `"off"`). */
  verboseDefault: VerboseLevel;
  /** The default agent: `agents.list[]` entry with `default:true`, else the first, else `main`. */
  defaultAgentId: string;
  /** Known agent ids (`main` when `agents.list` is empty). */
  agentIds: string[];
  /** `session.mainKey` / `session.scope`. */
  keys: SessionKeyOptions;
  /** `session.store` path template. */
  storePath?: string;
}

/** Reads the main-thread settings from the live options. */
export function agentSettings(opts: GatewayOptions): AgentSettings {
  const cfg = opts.agentConfig ?? {};
  const agents = isObj(cfg.agents) ? cfg.agents : {};
  const defaults = isObj(agents.defaults) ? agents.defaults : {};
  const session = isObj(cfg.session) ? cfg.session : {};
  const list = Array.isArray(agents.list) ? agents.list.filter((a): a is Record<string, unknown> & { id: string } => isObj(a) && typeof a.id === "string") : [];
  const ids = list.map((a) => a.id.toLowerCase());
  const defaultAgentId = (list.find((a) => a.default === true)?.id ?? list[0]?.id ?? "main").toLowerCase();
  const mc = defaults.maxConcurrent;
  const vd = defaults.verboseDefault;
  return {
    maxConcurrent: typeof mc === "number" && Number.isInteger(mc) && mc > 0 ? mc : DEFAULT_MAX_CONCURRENT,
    verboseDefault: vd === "on" || vd === "full" ? vd : "off",
    defaultAgentId,
    agentIds: ids.length > 0 ? ids : ["main"],
    keys: {
      defaultAgentId,
      mainKey: typeof session.mainKey === "string" && session.mainKey.trim() !== "" ? session.mainKey.trim() : "main",
      scope: session.scope === "global" ? "global" : "per-sender",
    },
    storePath: typeof session.store === "string" ? session.store : undefined,
  };
}

/** `agents.pool` (ours, not the reference's; read when the pool starts, i.e. at the first run). */
export interface AgentPoolSettings {
  /** `agents.pool.maxThreads` (1–64). */
  maxThreads?: number;
  /** `agents.pool.runsPerThread` (1–10000): runs one thread holds at once. */
  concurrentTasksPerWorker?: number;
  /** `agents.pool.idleSeconds` (1–86400): an idle thread retires after this long. */
  idleTimeout?: number;
}

/** Reads `agents.pool`; values out of range are ignored (the defaults apply), each named in `invalid`. */
export function agentPoolSettings(opts: GatewayOptions): { settings: AgentPoolSettings; invalid: string[] } {
  const cfg = opts.agentConfig ?? {};
  const agents = isObj(cfg.agents) ? cfg.agents : {};
  const pool = isObj(agents.pool) ? agents.pool : {};
  const invalid: string[] = [];
  const int = (key: string, min: number, max: number): number | undefined => {
    const v = pool[key];
    if (v === undefined) return undefined;
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    invalid.push(`agents.pool.${key} must be an integer from ${min} to ${max}`);
    return undefined;
  };
  const settings: AgentPoolSettings = {};
  const maxThreads = int("maxThreads", 1, 64);
  const runs = int("runsPerThread", 1, 10_000);
  const idle = int("idleSeconds", 1, 86_400);
  if (maxThreads !== undefined) settings.maxThreads = maxThreads;
  if (runs !== undefined) settings.concurrentTasksPerWorker = runs;
  if (idle !== undefined) settings.idleTimeout = idle * 1000;
  return { settings, invalid };
}

/** `{name, avatar}` of an agent (§3.7): `ui.assistant` → agent `identity` → defaults. */
export function agentIdentity(opts: GatewayOptions, agentId: string): { name: string; avatar: string } {
  const cfg = opts.agentConfig ?? {};
  const ui = isObj(cfg.ui) && isObj(cfg.ui.assistant) ? cfg.ui.assistant : {};
  const agents = isObj(cfg.agents) ? cfg.agents : {};
  const entry = Array.isArray(agents.list) ? agents.list.find((a) => isObj(a) && a.id === agentId) : undefined;
  const ident = isObj(entry) && isObj(entry.identity) ? entry.identity : {};
  const pick = (...vs: unknown[]): string | undefined => vs.find((v): v is string => typeof v === "string" && v.trim() !== "")?.trim();
  const name = pick(ui.name, ident.name) ?? "Assistant";
  const avatar = pick(ui.avatar, ident.avatar, ident.emoji) ?? "A";
  return { name: name.slice(0, 50), avatar: avatar.slice(0, 200) };
}
