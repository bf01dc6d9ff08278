/**
 * Model selection (§11.2): the agent's `model` (agents.list[]) or `agents.defaults.model`,
 * primary first then `fallbacks`, each resolved against `models.providers.<id>`. Refs are
 * `provider/model`; the model part may itself contain `/` (OpenRouter's `openai/gpt-4o`).
 * Every failure names the config key that fixes it.
 */
import { AgentError } from "../agent-errors.js";
import { agentEntry } from "../agent-config.js";
import type { AgentRuntimeConfig, ModelSetting, ProviderApi } from "../agent-config.js";

/** A model ready to call. */
export interface ResolvedModel {
  /** `provider/model` as configured. */
  ref: string;
  providerId: string;
  modelId: string;
  api: ProviderApi;
  baseUrl?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  contextWindow?: number;
  maxTokens?: number;
  /** `reasoning: true` on the model entry: thinking levels are sent. */
  reasoning?: boolean;
}

const APIS: readonly string[] = ["openai-completions", "anthropic-messages"];

function modelRefs(setting: ModelSetting | undefined): { primary?: string; fallbacks: string[] } {
  if (typeof setting === "string") return { primary: setting, fallbacks: [] };
  if (typeof setting === "object" && setting !== null) {
    return { primary: setting.primary, fallbacks: Array.isArray(setting.fallbacks) ? setting.fallbacks.filter((f) => typeof f === "string") : [] };
  }
  return { fallbacks: [] };
}

/** Resolves one `provider/model` ref. */
export function resolveModelRef(cfg: AgentRuntimeConfig, ref: string, configKey: string): ResolvedModel {
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1) {
    throw new AgentError("GW_ERR_AGENT_NO_MODEL", `${configKey} "${ref}" is not a "provider/model" reference; set it like "openai/gpt-4o"`, { configKey });
  }
  const providerId = ref.slice(0, slash);
  const modelId = ref.slice(slash + 1);
  const provider = cfg.models?.providers?.[providerId];
  if (typeof provider !== "object" || provider === null) {
    throw new AgentError(
      "GW_ERR_AGENT_PROVIDER_CONFIG",
      `model provider "${providerId}" (from ${configKey}) is not configured: add models.providers.${providerId} = {baseUrl, apiKey, api, models}`,
      { configKey: `models.providers.${providerId}` },
    );
  }
  const model = Array.isArray(provider.models) ? provider.models.find((m) => m.id === modelId) : undefined;
  const api = model?.api ?? provider.api ?? (providerId === "anthropic" ? "anthropic-messages" : "openai-completions");
  if (!APIS.includes(api)) {
    throw new AgentError("GW_ERR_AGENT_PROVIDER_CONFIG", `models.providers.${providerId}.api "${api}" is not supported here; use "openai-completions" or "anthropic-messages"`, {
      configKey: `models.providers.${providerId}.api`,
    });
  }
  const out: ResolvedModel = { ref, providerId, modelId, api: api as ProviderApi };
  if (typeof provider.baseUrl === "string" && provider.baseUrl !== "") out.baseUrl = provider.baseUrl;
  if (typeof provider.apiKey === "string" && provider.apiKey !== "") out.apiKey = provider.apiKey;
  if (typeof provider.headers === "object" && provider.headers !== null) out.headers = provider.headers;
  if (typeof model?.contextWindow === "number") out.contextWindow = model.contextWindow;
  if (typeof model?.maxTokens === "number") out.maxTokens = model.maxTokens;
  if (model?.reasoning === true) out.reasoning = true;
  return out;
}

/**
 * Primary then fallbacks for `agentId`. No model configured → `GW_ERR_AGENT_NO_MODEL` at once,
 * naming `agents.defaults.model`.
 *
 * `override` (`provider/model`: a session's `sessions.patch` model, a hook's `model`) runs
 * first; the configured fallbacks, then the configured primary, follow it (each once). With
 * an override, a missing configured model is not an error.
 */
export function resolveModelChain(cfg: AgentRuntimeConfig, agentId = "main", override?: string): ResolvedModel[] {
  const own = agentEntry(cfg, agentId)?.model;
  const key = own !== undefined ? `agents.list[${agentId}].model` : "agents.defaults.model";
  const setting = own ?? cfg.agents?.defaults?.model;
  const { primary, fallbacks } = modelRefs(setting);
  if (override !== undefined && override.trim() !== "") {
    const chain = [resolveModelRef(cfg, override.trim(), "the run's model override")];
    const configured = [...fallbacks.map((f) => [f.trim(), `${key}.fallbacks`] as const), ...(typeof primary === "string" && primary.trim() !== "" ? [[primary.trim(), typeof setting === "string" ? key : `${key}.primary`] as const] : [])];
    for (const [ref, configKey] of configured) if (!chain.some((m) => m.ref === ref)) chain.push(resolveModelRef(cfg, ref, configKey));
    return chain;
  }
  if (typeof primary !== "string" || primary.trim() === "") {
    throw new AgentError(
      "GW_ERR_AGENT_NO_MODEL",
      'no model configured: set agents.defaults.model to "<provider>/<model>" (e.g. "openai/gpt-4o") and define that provider under models.providers',
      { configKey: "agents.defaults.model" },
    );
  }
  const chain = [resolveModelRef(cfg, primary.trim(), typeof setting === "string" ? key : `${key}.primary`)];
  for (const f of fallbacks) chain.push(resolveModelRef(cfg, f.trim(), `${key}.fallbacks`));
  return chain;
}
