import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { resolveModelChain } from "../../src/workers/agent/providers/model-chain.js";
import { callModel } from "../../src/workers/agent/providers/call-model.js";
import { AgentError } from "../../src/workers/agent/agent-errors.js";
import type { ToolSpec } from "../../src/workers/agent/providers/provider-types.js";
import { configFor, startProviderFakes } from "./helpers/provider-config.js";

const readTool: ToolSpec = { name: "read", description: "read a file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } };

const fakes = startProviderFakes;

function run(chain: ReturnType<typeof resolveModelChain>, deltas: string[] = []) {
  return callModel(chain, { system: "be brief", messages: [{ role: "user", content: "hi", timestamp: 1 }], tools: [readTool], signal: new AbortController().signal }, { onTextDelta: (d) => deltas.push(d) });
}

for (const dialect of ["openai", "anthropic"] as const) {
  const ref = dialect === "openai" ? "oa/gpt-a" : "an/claude-a";
  const modelId = ref.split("/")[1]!;

  test(`${dialect}: streamed plain reply arrives as deltas, with usage and stop reason`, async (t) => {
    const f = await fakes(t);
    f[dialect].script(modelId, { type: "text", text: ["Hel", "lo ", "there"] });
    const deltas: string[] = [];
    const { result, model } = await run(resolveModelChain(configFor(f, ref)), deltas);
    assert.deepEqual(deltas, ["Hel", "lo ", "there"]);
    assert.deepEqual(result.content, [{ type: "text", text: "Hello there" }]);
    assert.equal(result.stopReason, "stop");
    assert.ok(result.usage.input > 0 && result.usage.output > 0);
    assert.equal(model.ref, ref);
    const req = f[dialect].requests[0]!;
    assert.equal(req.body.stream, true);
    assert.equal(req.body.model, modelId);
    if (dialect === "openai") {
      assert.equal(req.headers.authorization, "Bearer sk-test");
      assert.deepEqual((req.body.messages as unknown[])[0], { role: "system", content: "be brief" });
    } else {
      // SDK 1.x authenticates with a Bearer header (0.x used x-api-key); accept either.
      assert.ok(req.headers.authorization === "Bearer sk-test" || req.headers["x-api-key"] === "sk-test");
      assert.ok(typeof req.headers["anthropic-version"] === "string");
      assert.equal(req.body.system, "be brief");
      assert.equal(req.body.max_tokens, 2000);
    }
  });

  test(`${dialect}: tool call deltas are assembled by the SDK into one toolCall`, async (t) => {
    const f = await fakes(t);
    f[dialect].script(modelId, { type: "tools", text: "Let me look.", calls: [{ id: "c1", name: "read", args: { path: "notes/a b.txt", limit: 5 } }] });
    const { result } = await run(resolveModelChain(configFor(f, ref)));
    assert.equal(result.stopReason, "toolUse");
    assert.deepEqual(result.content, [{ type: "text", text: "Let me look." }, { type: "toolCall", id: "c1", name: "read", arguments: { path: "notes/a b.txt", limit: 5 } }]);
  });

  test(`${dialect}: 429 is retried with backoff, then succeeds`, async (t) => {
    const f = await fakes(t);
    f[dialect].script(modelId, { type: "error", status: 429, message: "slow down" }, { type: "text", text: "ok" });
    const { result } = await run(resolveModelChain(configFor(f, ref)));
    assert.deepEqual(result.content, [{ type: "text", text: "ok" }]);
    assert.equal(f[dialect].requests.length, 2);
  });

  test(`${dialect}: 401 fails at once with an auth error naming the apiKey setting`, async (t) => {
    const f = await fakes(t);
    f[dialect].script(modelId, { type: "error", status: 401, message: "invalid key" });
    await assert.rejects(run(resolveModelChain(configFor(f, ref))), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, "GW_ERR_AGENT_PROVIDER_AUTH");
      assert.match(err.message, new RegExp(`models\\.providers\\.${ref.split("/")[0]}\\.apiKey`));
      assert.match(err.message, /401/);
      assert.doesNotMatch(err.message, /sk-test/, "the key never appears in errors");
      return true;
    });
    assert.equal(f[dialect].requests.length, 1, "auth errors are not retried");
  });
}

test("500 on the primary (after bounded retries) falls back to the next model", async (t) => {
  const f = await fakes(t);
  f.openai.script("gpt-a", { type: "error", status: 500 }, { type: "error", status: 500 }, { type: "error", status: 500 });
  f.anthropic.script("claude-a", { type: "text", text: "from fallback" });
  const { result, model, failures } = await run(resolveModelChain(configFor(f, { primary: "oa/gpt-a", fallbacks: ["an/claude-a"] })));
  assert.equal(model.ref, "an/claude-a");
  assert.deepEqual(result.content, [{ type: "text", text: "from fallback" }]);
  assert.equal(f.openai.requestsFor("gpt-a").length, 3, "1 try + 2 retries, then fallback");
  assert.match(failures[0]!, /oa\/gpt-a.*HTTP 500/);
});

test("every model failing reports all of them", async (t) => {
  const f = await fakes(t);
  f.openai.script("gpt-a", { type: "error", status: 503 }, { type: "error", status: 503 }, { type: "error", status: 503 });
  f.openai.script("gpt-b", { type: "error", status: 400, message: "bad things" });
  await assert.rejects(run(resolveModelChain(configFor(f, { primary: "oa/gpt-a", fallbacks: ["oa/gpt-b"] }))), (err: unknown) => {
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, "GW_ERR_AGENT_PROVIDER_FAILED");
    assert.match(err.message, /oa\/gpt-b.*400.*also failed: model oa\/gpt-a.*503/);
    return true;
  });
});

test("no model configured or an unknown provider fails at once, naming the config key", () => {
  assert.throws(() => resolveModelChain({}), (e: unknown) => e instanceof AgentError && e.code === "GW_ERR_AGENT_NO_MODEL" && e.message.includes("agents.defaults.model"));
  assert.throws(() => resolveModelChain({ agents: { defaults: { model: "gpt-4o" } } }), /agents\.defaults\.model "gpt-4o" is not a "provider\/model"/);
  assert.throws(() => resolveModelChain({ agents: { defaults: { model: "nope/x" } } }), (e: unknown) => e instanceof AgentError && e.code === "GW_ERR_AGENT_PROVIDER_CONFIG" && e.message.includes("models.providers.nope"));
  const chain = resolveModelChain({ agents: { defaults: { model: { primary: "or/openai/gpt-4o" } } }, models: { providers: { or: { baseUrl: "http://x/v1", api: "openai-completions" } } } });
  assert.equal(chain[0]!.modelId, "openai/gpt-4o");
  assert.throws(() => resolveModelChain({ agents: { defaults: { model: "g/x" } }, models: { providers: { g: { api: "google-generative-ai" } } } }), /models\.providers\.g\.api/);
});

test("the fakes also speak non-streaming JSON to the official SDKs", async (t) => {
  const f = await fakes(t);
  f.openai.script("*", { type: "tools", calls: [{ id: "x", name: "ls", args: {} }] });
  f.anthropic.script("*", { type: "text", text: "plain" });
  const oa = await new OpenAI({ apiKey: "k", baseURL: f.openai.baseUrl }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
  assert.equal(oa.choices[0]!.finish_reason, "tool_calls");
  assert.equal(oa.choices[0]!.message.tool_calls?.[0]?.id, "x");
  const an = await new Anthropic({ apiKey: "k", baseURL: f.anthropic.origin }).messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
  assert.deepEqual(an.content, [{ type: "text", text: "plain" }]);
});

test("a model override runs first; the configured fallbacks, then the configured primary, follow it once each", () => {
  const models = { providers: { oa: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", models: [{ id: "gpt-a" }, { id: "gpt-b" }, { id: "gpt-c" }] } } };
  const configured = { primary: "oa/gpt-a", fallbacks: ["oa/gpt-b"] };
  const refs = (override: string | undefined, model: unknown): string[] =>
    resolveModelChain({ agents: { defaults: { model } }, models } as never, "main", override).map((m) => m.ref);
  assert.deepEqual(refs(undefined, configured), ["oa/gpt-a", "oa/gpt-b"]);
  assert.deepEqual(refs("oa/gpt-c", configured), ["oa/gpt-c", "oa/gpt-b", "oa/gpt-a"]);
  assert.deepEqual(refs("oa/gpt-b", configured), ["oa/gpt-b", "oa/gpt-a"]);
  assert.deepEqual(refs(" oa/gpt-c ", undefined), ["oa/gpt-c"], "an override needs no configured model");
  assert.throws(() => refs("gpt-c", configured), /the run's model override "gpt-c" is not a "provider\/model"/);
});
