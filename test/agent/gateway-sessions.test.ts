/** sessions.*, chat.inject and node-started runs through a real gateway. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { agentTwoStage, startAgentGateway } from "./helpers/agent-gateway.js";
import type { AgentGateway } from "./helpers/agent-gateway.js";
import { connectNode } from "../helpers/node.js";

let h: AgentGateway;
before(async () => {
  h = await startAgentGateway();
});
after(async () => {
  await h?.close();
});

test("sessions.list / preview / patch / reset / delete and chat.inject", async () => {
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "text", text: "first reply" }, { type: "text", text: "second reply" });
  await agentTwoStage(c, { message: "hello one", sessionKey: "agent:main:one", idempotencyKey: "sl-1" });
  await agentTwoStage(c, { message: "hello two", sessionKey: "agent:main:two", idempotencyKey: "sl-2" });

  const list = await c.request("sessions.list", {});
  assert.equal(list.ok, true, JSON.stringify(list.error));
  assert.deepEqual(list.payload.sessions.map((s: { key: string }) => s.key).slice(0, 2), ["agent:main:two", "agent:main:one"]);
  assert.equal(list.payload.sessions[0].model, "gpt-a");
  assert.equal(list.payload.defaults.modelProvider, "oa");
  assert.match(list.payload.path, /sessions\.json$/);
  const limited = await c.request("sessions.list", { limit: 1, search: "ONE" });
  assert.deepEqual(limited.payload.sessions.map((s: { key: string }) => s.key), ["agent:main:one"]);

  const pv = await c.request("sessions.preview", { keys: ["agent:main:one", "agent:main:nope"], maxChars: 20 });
  assert.equal(pv.payload.previews[0].status, "ok");
  assert.deepEqual(pv.payload.previews[0].items, [{ role: "user", text: "hello one" }, { role: "assistant", text: "first reply" }]);
  assert.equal(pv.payload.previews[1].status, "missing");

  const p1 = await c.request("sessions.patch", { key: "agent:main:one", label: "Uno", sendPolicy: "deny" });
  assert.equal(p1.payload.entry.label, "Uno");
  const blocked = await c.request("chat.send", { sessionKey: "agent:main:one", message: "x", idempotencyKey: "blocked-1" });
  assert.deepEqual(blocked.error, { code: "INVALID_REQUEST", message: "send blocked by session policy" });
  const blockedAgent = await c.request("agent", { sessionKey: "agent:main:one", message: "x", idempotencyKey: "blocked-2" });
  assert.equal(blockedAgent.error?.message, "invalid agent params: send blocked by session policy");
  const dup = await c.request("sessions.patch", { key: "agent:main:two", label: "Uno" });
  assert.equal(dup.error?.message, "label already in use: Uno");
  const bad = await c.request("sessions.patch", { key: "agent:main:two", verboseLevel: "loud" });
  assert.equal(bad.error?.code, "INVALID_REQUEST");
  const cleared = await c.request("sessions.patch", { key: "agent:main:one", label: null });
  assert.equal(cleared.payload.entry.label, undefined);

  const inj = await c.request("chat.inject", { sessionKey: "agent:main:one", message: "note", label: "sys" });
  assert.equal(inj.ok, true, JSON.stringify(inj.error));
  const ev = await c.next((f) => f.event === "chat" && f.payload?.runId === `inject-${inj.payload.messageId}`);
  assert.equal(ev.payload.seq, 0);
  const hist = await c.request("chat.history", { sessionKey: "agent:main:one" });
  assert.equal(hist.payload.messages.at(-1).content[0].text, "[sys]\n\nnote");
  assert.equal(hist.payload.messages.at(-1).stopReason, "injected");
  const missing = await c.request("chat.inject", { sessionKey: "agent:main:none", message: "x" });
  assert.equal(missing.error?.message, "session not found");

  const before = hist.payload.sessionId;
  const reset = await c.request("sessions.reset", { key: "agent:main:one" });
  assert.notEqual(reset.payload.entry.sessionId, before);
  assert.equal(reset.payload.entry.totalTokens, 0);
  assert.equal(reset.payload.entry.sendPolicy, "deny");
  const afterReset = await c.request("chat.history", { sessionKey: "agent:main:one" });
  assert.deepEqual(afterReset.payload.messages, []);

  const main = await c.request("sessions.delete", { key: "main" });
  assert.equal(main.error?.message, "Cannot delete the main session (agent:main:main).");
  const del = await c.request("sessions.delete", { key: "agent:main:two" });
  assert.equal(del.payload.deleted, true);
  assert.equal(del.payload.archived.length, 1);
  assert.ok(existsSync(del.payload.archived[0]));
  assert.ok(readdirSync(join(h.gw.stateDir, "agents", "main", "sessions")).some((f) => f.includes(".jsonl.deleted.")));
  const list2 = await c.request("sessions.list", {});
  assert.equal(list2.payload.sessions.some((s: { key: string }) => s.key === "agent:main:two"), false);

  h.openai.script("gpt-a", { type: "text", text: "by id" });
  const [, byId] = await agentTwoStage(c, { message: "via id", sessionId: "sess-fixed-1", idempotencyKey: "sid-1" });
  assert.equal(byId.payload.result.meta.agentMeta.sessionId, "sess-fixed-1");
  const mainEntry = (await c.request("sessions.list", {})).payload.sessions.find((s: { key: string }) => s.key === "agent:main:main");
  assert.equal(mainEntry, undefined, "a sessionId-only run does not take over the main session");

  const health = await c.request("health", { probe: true });
  assert.ok(Array.isArray(health.payload.agents), "health.agents stays the reference's list");
  assert.equal(health.payload.agentRuns.poolStarted, true);

  const ident = await c.request("agent.identity.get", {});
  assert.deepEqual(ident.payload, { agentId: "main", name: "Assistant", avatar: "A" });
});

test("sessions.patch model: the session's next runs call that model first; model null goes back to the configured one", async () => {
  const c = await h.connect();
  const key = "agent:main:model-override";
  h.openai.script("gpt-a", { type: "text", text: "from a" }, { type: "text", text: "from a again" });
  h.openai.script("gpt-b", { type: "text", text: "from b" });
  const [, first] = await agentTwoStage(c, { message: "one", sessionKey: key, idempotencyKey: "mo-1" });
  assert.equal(first.payload.result.meta.agentMeta.model, "gpt-a");

  const patched = await c.request("sessions.patch", { key, model: "oa/gpt-b" });
  assert.equal(patched.ok, true, JSON.stringify(patched.error));
  const bBefore = h.openai.requestsFor("gpt-b").length;
  const [, second] = await agentTwoStage(c, { message: "two", sessionKey: key, idempotencyKey: "mo-2" });
  assert.equal(second.ok, true, JSON.stringify(second));
  assert.equal(second.payload.result.meta.agentMeta.model, "gpt-b");
  assert.deepEqual(second.payload.result.payloads, [{ text: "from b", mediaUrl: null }]);
  assert.equal(h.openai.requestsFor("gpt-b").length, bBefore + 1);
  const listed = await c.request("sessions.list", { search: "model-override" });
  assert.equal(listed.payload.sessions[0].model, "gpt-b");

  assert.equal((await c.request("sessions.patch", { key, model: null })).ok, true);
  const [, third] = await agentTwoStage(c, { message: "three", sessionKey: key, idempotencyKey: "mo-3" });
  assert.equal(third.payload.result.meta.agentMeta.model, "gpt-a");
});

test("node voice.transcript starts a run; a node subscribed to the session gets its chat and agent events", async () => {
  const c = await h.connect();
  const node = await connectNode(h.gw.url, { platform: "linux" });
  await node.client.request("node.event", { event: "chat.subscribe", payload: { sessionKey: "main" } });
  h.openai.script("gpt-a", { type: "text", text: "heard you" });
  const r = await node.client.request("node.event", { event: "voice.transcript", payload: { text: "hello from voice" } });
  assert.deepEqual(r.payload, { ok: true });
  const fin = await node.client.next((f) => f.event === "chat" && f.payload?.state === "final", 15_000);
  assert.match(fin.payload.runId, /^voice-/);
  assert.equal(fin.payload.message.content[0].text, "heard you");
  assert.ok(node.client.frames.some((f) => f.event === "agent" && f.payload?.runId === fin.payload.runId && f.seq === undefined), "agent events unicast (no seq)");
  const op = await c.next((f) => f.event === "chat" && f.payload?.runId === fin.payload.runId && f.payload.state === "final");
  assert.equal(op.payload.message.content[0].text, "heard you");
  node.client.close();
});
