/** One end-to-end pass per provider scenario through the gateway (the worker tests cover the details). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { agentEvents, agentTwoStage, startAgentGateway } from "./helpers/agent-gateway.js";
import type { AgentGateway } from "./helpers/agent-gateway.js";

let h: AgentGateway;
before(async () => {
  h = await startAgentGateway();
});
after(async () => {
  await h?.close();
});

test("tool call → result → reply; tool events relayed only once the session's verbose level is on", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "tools", calls: [{ id: "t1", name: "ls", args: {} }] }, { type: "text", text: "listed" });
  const [, quiet] = await agentTwoStage(c, { message: "ls", sessionKey: "agent:main:tools", idempotencyKey: "tool-1" });
  assert.equal(quiet.payload.result.payloads[0].text, "listed");
  const qe = agentEvents(c, "tool-1");
  assert.equal(qe.some((e) => e.stream === "tool"), false);
  assert.equal(qe[1].stream, "assistant", "first relayed event after start is the assistant one");
  const patched = await c.request("sessions.patch", { key: "agent:main:tools", verboseLevel: "on" });
  assert.equal(patched.ok, true, JSON.stringify(patched.error));
  h.openai.script("gpt-a", { type: "tools", calls: [{ id: "t2", name: "ls", args: {} }] }, { type: "text", text: "again" });
  await agentTwoStage(c, { message: "ls", sessionKey: "agent:main:tools", idempotencyKey: "tool-2" });
  const ve = agentEvents(c, "tool-2");
  assert.deepEqual(ve.filter((e) => e.stream === "tool").map((e) => e.data.phase), ["start", "result"]);
  assert.deepEqual(ve.map((e) => e.seq), ve.map((_, i) => i + 1));
});

test("429 then success; 500s → fallback model; auth error names the key", async () => {
  const c = await h.connect();
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  h.openai.script("gpt-a", { type: "error", status: 429, message: "slow down", retryAfterMs: 1 }, { type: "text", text: "after retry" });
  const [, r1] = await agentTwoStage(c, { message: "x", sessionKey: "agent:main:p1", idempotencyKey: "p-429" });
  assert.equal(r1.payload.result.payloads[0].text, "after retry");

  h.setConfig({ defaults: { model: { primary: "oa/gpt-a", fallbacks: ["an/claude-a"] } } });
  h.openai.script("gpt-a", ...Array.from({ length: 3 }, () => ({ type: "error" as const, status: 500, retryAfterMs: 1 })));
  h.anthropic.script("claude-a", { type: "text", text: "from fallback" });
  const [, r2] = await agentTwoStage(c, { message: "x", sessionKey: "agent:main:p2", idempotencyKey: "p-500" });
  assert.equal(r2.ok, true, JSON.stringify(r2));
  assert.equal(r2.payload.result.payloads[0].text, "from fallback");
  assert.equal(r2.payload.result.meta.agentMeta.provider, "an");

  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  h.openai.script("gpt-a", { type: "error", status: 401, message: "invalid key" });
  const [ack, r3] = await agentTwoStage(c, { message: "x", sessionKey: "agent:main:p3", idempotencyKey: "p-401" });
  assert.equal(ack.ok, true);
  assert.equal(r3.ok, false);
  assert.equal(r3.error!.code, "UNAVAILABLE");
  assert.match(r3.error!.message, /models\.providers\.oa\.apiKey/);
  assert.equal(r3.payload.status, "error");
  const w = await c.request("agent.wait", { runId: "p-401", timeoutMs: 0 });
  assert.equal(w.payload.status, "error");

  h.setConfig({ defaults: {} });
  const [, r4] = await agentTwoStage(c, { message: "x", sessionKey: "agent:main:p4", idempotencyKey: "p-nomodel" });
  assert.equal(r4.ok, false);
  assert.match(r4.error!.message, /agents\.defaults\.model/);
});

test("slow provider → AGENT_TIMEOUT; chat.abort mid-stream → aborted event, run ends aborted", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "text", text: Array.from({ length: 20 }, () => "z"), delayMs: 200 });
  const [, t] = await agentTwoStage(c, { message: "slow", sessionKey: "agent:main:slow", idempotencyKey: "slow-1", timeout: 1 });
  assert.equal(t.ok, false);
  assert.equal(t.error!.code, "AGENT_TIMEOUT");
  const chatErr = c.frames.find((f) => f.event === "chat" && f.payload?.runId === "slow-1" && f.payload.state === "error");
  assert.ok(chatErr, "chat error event");

  h.openai.script("gpt-a", { type: "text", text: Array.from({ length: 20 }, () => "y"), delayMs: 100 });
  const id = "abort-1";
  const done = agentTwoStage(c, { message: "abort me", sessionKey: "agent:main:ab", idempotencyKey: id });
  await c.next((f) => f.event === "agent" && f.payload?.runId === id && f.payload.stream === "assistant", 15_000);
  const mismatch = await c.request("chat.abort", { sessionKey: "agent:main:other", runId: id });
  assert.equal(mismatch.error?.message, "runId does not match sessionKey");
  const ab = await c.request("chat.abort", { sessionKey: "agent:main:ab", runId: id });
  assert.deepEqual(ab.payload, { ok: true, aborted: true, runIds: [id] });
  const [, fin] = await done;
  assert.equal(fin.ok, true);
  assert.equal(fin.payload.result.meta.aborted, true);
  const aborted = c.frames.find((f) => f.event === "chat" && f.payload?.runId === id && f.payload.state === "aborted");
  assert.equal(aborted?.payload.stopReason, "rpc");
  const evs = agentEvents(c, id);
  assert.equal(aborted?.payload.seq > 1, true);
  assert.equal(evs.at(-1).data.aborted, true);
});

test("a pool thread killed mid-run: the caller gets UNAVAILABLE, the pool recovers, the transcript stays readable", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "text", text: Array.from({ length: 20 }, () => "k"), delayMs: 100 });
  const done = agentTwoStage(c, { message: "die", sessionKey: "agent:main:crash", idempotencyKey: "crash-1" });
  await c.next((f) => f.event === "agent" && f.payload?.runId === "crash-1" && f.payload.stream === "assistant", 15_000);
  const pool = await h.runtime.pool()!;
  await Promise.all(pool.workers().map((w) => w.terminate()));
  const [, fin] = await done;
  assert.equal(fin.ok, false);
  assert.equal(fin.error!.code, "UNAVAILABLE");
  assert.equal(fin.error!.retryable, true);
  const last = agentEvents(c, "crash-1").at(-1);
  assert.equal(last.data.phase, "error");
  h.openai.script("gpt-a", { type: "text", text: "alive" });
  const [, ok] = await agentTwoStage(c, { message: "again", sessionKey: "agent:main:crash", idempotencyKey: "crash-2" });
  assert.equal(ok.ok, true, JSON.stringify(ok));
  assert.equal(ok.payload.result.payloads[0].text, "alive");
  const hist = await c.request("chat.history", { sessionKey: "agent:main:crash" });
  assert.ok(hist.payload.messages.length >= 2);
  const file = join(h.gw.stateDir, "agents", "main", "sessions", `${hist.payload.sessionId}.jsonl`);
  for (const l of (await readFile(file, "utf8")).split("\n").filter((x) => x !== "")) JSON.parse(l);
});
