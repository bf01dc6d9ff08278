/**
 * Thinking levels (§3.5 `thinking`, §11.1 step 5): the run's level → the session's
 * `thinkingLevel` → `agents.defaults.thinkingDefault` → off, sent only to models marked
 * `reasoning` — OpenAI-compatible as `reasoning_effort` (xhigh as high), Anthropic as
 * `thinking.budget_tokens` with `max_tokens` raised to fit. Anthropic's signed thinking
 * blocks are kept in the transcript and sent back within the turn.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FakeProvider } from "../fakes/fake-http.js";
import { resolveModelChain } from "../../src/workers/agent/providers/model-chain.js";
import { callModel } from "../../src/workers/agent/providers/call-model.js";
import type { TranscriptMessage } from "../../src/shared/store/sessions/transcript-types.js";
import { normalizeThinkingLevel, type ThinkingLevel } from "../../src/shared/run-directives.js";
import { configFor, startProviderFakes } from "./helpers/provider-config.js";
import { agentTwoStage, startAgentGateway } from "./helpers/agent-gateway.js";

const fakes = startProviderFakes;

const hi: TranscriptMessage[] = [{ role: "user", content: "hi", timestamp: 1 }];

function call(f: { openai: FakeProvider; anthropic: FakeProvider }, ref: string, thinking: ThinkingLevel | undefined, messages = hi) {
  return callModel(resolveModelChain(configFor(f, ref)), { system: "", messages, tools: [], signal: new AbortController().signal, ...(thinking ? { thinking } : {}) }, { onTextDelta: () => undefined });
}

test("level names, case and the reference's aliases; anything else names no level", () => {
  assert.equal(normalizeThinkingLevel("HIGH"), "high");
  assert.equal(normalizeThinkingLevel(" on "), "low");
  assert.equal(normalizeThinkingLevel("max"), "high");
  assert.equal(normalizeThinkingLevel("x-high"), "xhigh");
  assert.equal(normalizeThinkingLevel("min"), "minimal");
  assert.equal(normalizeThinkingLevel("bogus"), undefined);
  assert.equal(normalizeThinkingLevel(3), undefined);
});

test("openai-completions: reasoning_effort only for reasoning models and levels above off; xhigh is sent as high", async (t) => {
  const f = await fakes(t);
  f.openai.script("*", { type: "text", text: "a" }, { type: "text", text: "b" }, { type: "text", text: "c" }, { type: "text", text: "d" });
  await call(f, "oa/gpt-r", "medium");
  await call(f, "oa/gpt-r", "xhigh");
  await call(f, "oa/gpt-r", "off");
  await call(f, "oa/gpt-a", "high");
  assert.deepEqual(
    f.openai.requests.map((r) => r.body.reasoning_effort),
    ["medium", "high", undefined, undefined],
  );
});

test("anthropic-messages: budget by level with max_tokens raised; a small maxTokens shrinks the budget or turns thinking off; signed thinking blocks come back and go out again", async (t) => {
  const f = await fakes(t);
  f.anthropic.script("*", { type: "tools", thinking: "I should read it", text: "Looking.", calls: [{ id: "t1", name: "read", args: { path: "a" } }] }, { type: "text", text: "x" }, { type: "text", text: "y" }, { type: "text", text: "z" }, { type: "text", text: "w" });
  const { result } = await call(f, "an/claude-r", "low");
  const first = f.anthropic.requests[0]!.body;
  assert.deepEqual(first.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.equal(first.max_tokens, 4096 + 2048);
  assert.deepEqual(result.content[0], { type: "thinking", thinking: "I should read it", thinkingSignature: "sig:I should read it" });
  assert.equal(result.stopReason, "toolUse");

  // The next call of the turn carries the signed block before the tool use it led to.
  const turn: TranscriptMessage[] = [
    ...hi,
    { role: "assistant", content: result.content, usage: result.usage, stopReason: result.stopReason, timestamp: 2 },
    { role: "toolResult", toolCallId: "t1", toolName: "read", content: [{ type: "text", text: "file a" }], isError: false, timestamp: 3 },
  ];
  await call(f, "an/claude-r", "low", turn);
  const assistant = (f.anthropic.requests[1]!.body.messages as { role: string; content: { type: string }[] }[])[1]!;
  assert.deepEqual(assistant.content[0], { type: "thinking", thinking: "I should read it", signature: "sig:I should read it" });
  // Without thinking, the block stays out (and no thinking parameter is sent).
  await call(f, "an/claude-r", undefined, turn);
  const plain = f.anthropic.requests[2]!.body;
  assert.equal(plain.thinking, undefined);
  assert.ok((plain.messages as { content: { type: string }[] }[])[1]!.content.every((b) => b.type !== "thinking"));

  // maxTokens 3000: high's 16,384 shrinks to what leaves 1,024 for the answer.
  await call(f, "an/claude-r-small", "high");
  assert.deepEqual(f.anthropic.requests[3]!.body.thinking, { type: "enabled", budget_tokens: 3000 - 1024 });
  assert.equal(f.anthropic.requests[3]!.body.max_tokens, 3000);
  // A model not marked reasoning gets none.
  await call(f, "an/claude-a", "high");
  assert.equal(f.anthropic.requests[4]!.body.thinking, undefined);
  assert.equal(f.anthropic.requests[4]!.body.max_tokens, 2000);
});

test("gateway: run level → session thinkingLevel → thinkingDefault; unknown levels are INVALID_REQUEST; chat.history reports the level", async (t) => {
  const h = await startAgentGateway();
  t.after(() => h.close());
  h.setConfig({ defaults: { model: "oa/gpt-r", thinkingDefault: "minimal" } });
  const c = await h.connect();
  const efforts = (): unknown[] => h.openai.requestsFor("gpt-r").map((r) => r.body.reasoning_effort);
  const run = async (key: string, extra: Record<string, unknown> = {}): Promise<void> => {
    h.openai.script("gpt-r", { type: "text", text: "ok" });
    const [ack, final] = await agentTwoStage(c, { message: "think", sessionKey: "s1", idempotencyKey: key, ...extra });
    assert.equal(ack.ok, true, JSON.stringify(ack.error));
    assert.equal(final.payload?.status, "ok", JSON.stringify(final.payload));
  };

  await run("k1");
  assert.equal((await c.request("chat.history", { sessionKey: "s1" })).payload?.thinkingLevel, "minimal", "the config default");
  assert.equal((await c.request("sessions.patch", { key: "s1", thinkingLevel: "high" })).ok, true);
  await run("k2");
  await run("k3", { thinking: "LOW" });
  assert.equal((await c.request("chat.history", { sessionKey: "s1" })).payload?.thinkingLevel, "high", "the session's level");
  assert.deepEqual(efforts(), ["minimal", "high", "low"]);

  const bad = await c.request("agent", { message: "x", sessionKey: "s1", thinking: "galaxy-brain", idempotencyKey: "k4" });
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, "INVALID_REQUEST");
  assert.match(bad.error?.message ?? "", /^invalid agent params: unknown thinking level "galaxy-brain"/);
  const badChat = await c.request("chat.send", { sessionKey: "s1", message: "x", thinking: "nope", idempotencyKey: "k5" });
  assert.equal(badChat.error?.code, "INVALID_REQUEST");
  assert.match(badChat.error?.message ?? "", /^invalid chat\.send params: unknown thinking level "nope"/);
  assert.equal(h.openai.requestsFor("gpt-r").length, 3, "refused runs never reached the model");
});
