/** Config builders pointing providers at the loopback fakes. */
import type { AgentRuntimeConfig, ModelSetting } from "../../../src/workers/agent/agent-config.js";
import type { FakeProvider } from "../../fakes/fake-http.js";
import { startFakeOpenAI } from "../../fakes/fake-openai.js";
import { startFakeAnthropic } from "../../fakes/fake-anthropic.js";

/** `models.providers` with an `oa` (openai-completions) and/or `an` (anthropic-messages) provider. */
export function providersFor(fakes: { openai?: FakeProvider; anthropic?: FakeProvider }, apiKey = "sk-test"): NonNullable<AgentRuntimeConfig["models"]> {
  const providers: NonNullable<NonNullable<AgentRuntimeConfig["models"]>["providers"]> = {};
  if (fakes.openai) providers.oa = { baseUrl: fakes.openai.baseUrl, apiKey, api: "openai-completions", models: [{ id: "gpt-a", name: "A", contextWindow: 128000, maxTokens: 1000 }, { id: "gpt-b" }, { id: "gpt-r", reasoning: true }] };
  if (fakes.anthropic) providers.an = { baseUrl: fakes.anthropic.origin, apiKey, api: "anthropic-messages", models: [{ id: "claude-a", contextWindow: 200000, maxTokens: 2000 }, { id: "claude-r", reasoning: true }, { id: "claude-r-small", reasoning: true, maxTokens: 3000 }] };
  return { providers };
}

/** A whole runtime config with `model` as `agents.defaults.model`. */
export function configFor(fakes: { openai?: FakeProvider; anthropic?: FakeProvider }, model: ModelSetting, extra: Partial<AgentRuntimeConfig> = {}): AgentRuntimeConfig {
  return { agents: { defaults: { model } }, models: providersFor(fakes), ...extra };
}

/** Both provider fakes, closed when the test ends. */
export async function startProviderFakes(t: { after: (fn: () => Promise<void>) => void }): Promise<{ openai: FakeProvider; anthropic: FakeProvider }> {
  const openai = await startFakeOpenAI();
  const anthropic = await startFakeAnthropic();
  t.after(async () => {
    await openai.close();
    await anthropic.close();
  });
  return { openai, anthropic };
}
