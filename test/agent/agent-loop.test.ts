import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI } from "../fakes/fake-openai.js";
import { startFakeAnthropic } from "../fakes/fake-anthropic.js";
import type { FakeProvider } from "../fakes/fake-http.js";
import { runAgentTurn } from "../../src/workers/agent/agent-loop.js";
import type { AgentTurnInput } from "../../src/workers/agent/agent-loop.js";
import { shouldRelay } from "../../src/workers/agent/agent-events.js";
import type { AgentEvent } from "../../src/workers/agent/agent-events.js";
import { AGENT_ERROR_REGISTRY } from "../../src/workers/agent/agent-errors.js";
import { resolveModelChain } from "../../src/workers/agent/providers/model-chain.js";
import { buildTools } from "../../src/workers/agent/tools/tool-registry.js";
import { workspaceRoot } from "../../src/workers/agent/tools/workspace-path.js";
import type { ModelSetting } from "../../src/workers/agent/agent-config.js";
import { configFor } from "./helpers/provider-config.js";

interface Harness {
  openai: FakeProvider;
  anthropic: FakeProvider;
  workspace: string;
  turn(model: ModelSetting, extra?: Partial<AgentTurnInput>): Promise<{ result: Awaited<ReturnType<typeof runAgentTurn>>; events: AgentEvent[] }>;
}

async function harness(t: { after: (fn: () => Promise<void>) => void }): Promise<Harness> {
  const openai = await startFakeOpenAI();
  const anthropic = await startFakeAnthropic();
  const dir = mkdtempSync(join(tmpdir(), "agent-loop-"));
  const workspace = await workspaceRoot(join(dir, "ws"));
  t.after(async () => {
    await openai.close();
    await anthropic.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    openai,
    anthropic,
    workspace,
    async turn(model, extra = {}) {
      const events: AgentEvent[] = [];
      const cfg = configFor({ openai, anthropic }, model);
      const result = await runAgentTurn({
        runId: "run-1", sessionKey: "agent:main:main", message: "hi", history: [], models: resolveModelChain(cfg), tools: buildTools(cfg),
        workspace, timeoutMs: 10_000, onEvent: (ev) => events.push(ev), ...extra,
      });
      return { result, events };
    },
  };
}

function assertSeq(events: AgentEvent[]): void {
  events.forEach((ev, i) => {
    assert.equal(ev.seq, i + 1);
    assert.equal(ev.runId, "run-1");
    assert.equal(ev.sessionKey, "agent:main:main");
  });
}

test("plain reply: lifecycle start, cumulative assistant deltas, lifecycle end", async (t) => {
  const h = await harness(t);
  h.openai.script("gpt-a", { type: "text", text: ["Hel", "lo!"] });
  const { result, events } = await h.turn("oa/gpt-a");
  assertSeq(events);
  assert.deepEqual(events.map((e) => [e.stream, e.data.phase ?? e.data.delta]), [["lifecycle", "start"], ["assistant", "Hel"], ["assistant", "lo!"], ["lifecycle", "end"]]);
  assert.deepEqual(events[2]!.data, { text: "Hello!", delta: "lo!" });
  assert.equal(events[3]!.data.aborted, undefined);
  assert.equal(typeof events[3]!.data.endedAt, "number");
  assert.equal(result.status, "ok");
  assert.equal(result.text, "Hello!");
  assert.equal(result.provider, "oa");
  assert.equal(result.model, "gpt-a");
  assert.equal(result.usage.totalTokens, 18);
  assert.deepEqual(result.newMessages.map((m) => m.role), ["user", "assistant"]);
});

test("tool call → tool result → reply (anthropic): the tool runs in the workspace, events per §3.8", async (t) => {
  const h = await harness(t);
  h.anthropic.script("claude-a", { type: "tools", text: "Writing.", calls: [{ id: "tu1", name: "write", args: { path: "hello.txt", content: "hi there" } }] }, { type: "text", text: "Done." });
  const { result, events } = await h.turn("an/claude-a");
  assertSeq(events);
  assert.equal(readFileSync(join(h.workspace, "hello.txt"), "utf8"), "hi there");
  const tools = events.filter((e) => e.stream === "tool").map((e) => e.data);
  assert.deepEqual(tools[0], { phase: "start", name: "write", toolCallId: "tu1", args: { path: "hello.txt", content: "hi there" } });
  assert.equal(tools[1]!.phase, "result");
  assert.equal(tools[1]!.isError, false);
  assert.equal(result.text, "Writing.\n\nDone.");
  assert.deepEqual(result.newMessages.map((m) => m.role), ["user", "assistant", "toolResult", "assistant"]);
  const second = h.anthropic.requests[1]!.body.messages as { role: string; content: unknown }[];
  assert.deepEqual(second.at(-1), { role: "user", content: [{ type: "tool_result", tool_use_id: "tu1", content: "Successfully wrote 8 bytes to hello.txt", is_error: false }] });
  assert.equal(shouldRelay(events.find((e) => e.stream === "tool")!, "off"), false);
  assert.equal(shouldRelay(events.find((e) => e.stream === "tool")!, "on"), true);
});

test("429 then success; 500 → fallback model", async (t) => {
  const h = await harness(t);
  h.openai.script("gpt-a", { type: "error", status: 429 }, { type: "text", text: "after retry" });
  assert.equal((await h.turn("oa/gpt-a")).result.text, "after retry");
  h.openai.script("gpt-a", { type: "error", status: 500 }, { type: "error", status: 500 }, { type: "error", status: 500 });
  h.anthropic.script("claude-a", { type: "text", text: "fallback here" });
  const { result } = await h.turn({ primary: "oa/gpt-a", fallbacks: ["an/claude-a"] });
  assert.equal(result.status, "ok");
  assert.equal(result.text, "fallback here");
  assert.equal(result.provider, "an");
});

test("auth error ends the run with lifecycle error naming the key to fix", async (t) => {
  const h = await harness(t);
  h.openai.script("gpt-a", { type: "error", status: 401, message: "Incorrect API key" });
  const { result, events } = await h.turn("oa/gpt-a");
  assert.equal(result.status, "error");
  assert.equal(result.error?.code, "GW_ERR_AGENT_PROVIDER_AUTH");
  const last = events.at(-1)!;
  assert.equal(last.data.phase, "error");
  assert.match(String(last.data.error), /Incorrect API key.*models\.providers\.oa\.apiKey/);
});

test("slow provider past the deadline → AGENT_TIMEOUT, partial text kept", async (t) => {
  const h = await harness(t);
  h.openai.script("gpt-a", { type: "text", text: ["a", "b", "c", "d", "e", "f"], delayMs: 150 });
  const started = Date.now();
  const { result, events } = await h.turn("oa/gpt-a", { timeoutMs: 400 });
  assert.ok(Date.now() - started < 800, "the deadline did not cut the stream");
  assert.equal(result.error?.code, "GW_ERR_AGENT_TIMEOUT");
  assert.equal(AGENT_ERROR_REGISTRY[result.error!.code].protocol, "AGENT_TIMEOUT");
  assert.equal(events.at(-1)!.data.phase, "error");
  const partial = result.newMessages.at(-1)!;
  assert.equal(partial.role, "assistant");
  assert.equal(partial.role === "assistant" && partial.stopReason, "error");
  assert.ok(result.text.length >= 1 && result.text.length < 6);
});

test("abort mid-stream ends with lifecycle end aborted:true and closes the provider stream", async (t) => {
  const h = await harness(t);
  // 1 s between chunks: a stream that was not stopped takes 3 s more after the first chunk.
  h.anthropic.script("claude-a", { type: "text", text: ["one ", "two ", "three ", "four"], delayMs: 1000 });
  const ac = new AbortController();
  const started = Date.now();
  const events: AgentEvent[] = [];
  const { result } = await h.turn("an/claude-a", {
    signal: ac.signal,
    onEvent: (ev) => {
      events.push(ev);
      if (ev.stream === "assistant") ac.abort();
    },
  });
  assert.ok(Date.now() - started < 2500, "abort did not stop the stream");
  assert.equal(result.status, "aborted");
  assert.equal(result.text, "one ");
  assert.deepEqual(events.at(-1)!.data.aborted, true);
  assert.equal(events.at(-1)!.data.phase, "end");
  const partial = result.newMessages.at(-1)!;
  assert.equal(partial.role === "assistant" && partial.stopReason, "aborted");
});

test("history with dangling tool calls is repaired before it reaches the provider", async (t) => {
  const h = await harness(t);
  h.openai.script("gpt-a", { type: "text", text: "fine" });
  const usage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } };
  const { result } = await h.turn("oa/gpt-a", {
    history: [
      { role: "user", content: "earlier", timestamp: 1 },
      { role: "assistant", content: [{ type: "toolCall", id: "c9", name: "ls", arguments: {} }], usage, stopReason: "toolUse", timestamp: 2 },
    ],
  });
  assert.equal(result.status, "ok");
  const sent = h.openai.requests[0]!.body.messages as { role: string; tool_call_id?: string }[];
  assert.deepEqual(sent.map((m) => m.role), ["system", "user", "assistant", "tool", "user"]);
  assert.equal(sent[3]!.tool_call_id, "c9");
});
