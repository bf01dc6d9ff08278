/**
 * The slice of `clawdbot.json` an agent run reads, with the reference's key names and shapes
 * (§8.3, §11.2): `agents.defaults.{model, workspace, timeoutSeconds, verboseDefault}`,
 * `agents.list[]`, `models.providers.<id>`, `tools.{allow, deny, exec.enabled}`. The config
 * schema keeps these sections loose, so `readAgentRuntimeConfig` checks the shapes it needs.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** Wire dialects implemented here. */
export type ProviderApi = "openai-completions" | "anthropic-messages";

/** `models.providers.<id>.models[]`. */
export interface ProviderModelConfig {
  id: string;
  name?: string;
  api?: string;
  contextWindow?: number;
  maxTokens?: number;
  /** The model reasons (takes `reasoning_effort` / Anthropic `thinking`); thinking levels apply only then. */
  reasoning?: boolean;
}

/** `models.providers.<id>`. `apiKey` has had `${ENV}` substituted by the config loader. */
export interface ProviderConfig {
  baseUrl?: string;
  apiKey?: string;
  api?: string;
  headers?: Record<string, string>;
  models?: ProviderModelConfig[];
}

/** `agents.defaults.model`: `"provider/model"` or `{primary, fallbacks}`. */
export type ModelSetting = string | { primary?: string; fallbacks?: string[] };

/** One `agents.list[]` entry (fields used by runs). */
export interface AgentListEntry {
  id: string;
  default?: boolean;
  model?: ModelSetting;
  workspace?: string;
}

/** What an agent run reads from the config. */
export interface AgentRuntimeConfig {
  agents?: {
    defaults?: {
      model?: ModelSetting;
      /** Default `~/clawd`. */
      workspace?: string;
      /** Default 600. */
      timeoutSeconds?: number;
      /** Default `"off"`. */
      verboseDefault?: "off" | "on" | "full";
      /** Default thinking level of runs (`off`…`xhigh`); default off. */
      thinkingDefault?: string;
    };
    list?: AgentListEntry[];
  };
  models?: { providers?: Record<string, ProviderConfig> };
  tools?: { allow?: string[]; deny?: string[]; exec?: { enabled?: boolean } };
}

/** Default agent timeout (seconds), §11.1. */
export const DEFAULT_TIMEOUT_SECONDS = 600;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Picks the run-relevant sections out of a loaded config (anything else is ignored). */
export function readAgentRuntimeConfig(config: unknown): AgentRuntimeConfig {
  if (!isObj(config)) return {};
  const out: AgentRuntimeConfig = {};
  if (isObj(config.agents)) out.agents = config.agents as AgentRuntimeConfig["agents"];
  if (isObj(config.models)) out.models = config.models as AgentRuntimeConfig["models"];
  if (isObj(config.tools)) out.tools = config.tools as AgentRuntimeConfig["tools"];
  return out;
}

/** The agent's `agents.list[]` entry, if any. */
export function agentEntry(cfg: AgentRuntimeConfig, agentId: string): AgentListEntry | undefined {
  return cfg.agents?.list?.find((a) => isObj(a) && a.id === agentId);
}

/** Workspace: `agents.list[].workspace` → `agents.defaults.workspace` → `~/clawd` (`~` expanded). */
export function resolveWorkspace(cfg: AgentRuntimeConfig, agentId = "main", home: string = homedir()): string {
  const raw = agentEntry(cfg, agentId)?.workspace ?? cfg.agents?.defaults?.workspace ?? "~/clawd";
  return raw === "~" ? home : raw.startsWith("~/") ? join(home, raw.slice(2)) : raw;
}

/** Run timeout in ms: explicit seconds → `agents.defaults.timeoutSeconds` → 600 s. */
export function resolveTimeoutMs(cfg: AgentRuntimeConfig, explicitSeconds?: number): number {
  const s = explicitSeconds ?? cfg.agents?.defaults?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  return Math.max(1, Math.round(s * 1000));
}
