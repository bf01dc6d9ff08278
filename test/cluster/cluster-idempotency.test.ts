/**
 * Idempotency keys shared through the cluster's dedupe bucket, with real gateway processes
 * and a fake model server that counts calls: an `agent` or `chat.send` retried with the same
 * idempotencyKey on another gateway runs once (answered "accepted"/"in_flight" while the
 * original runs, then with its final), and `agent.wait` works from the other gateway; a
 * `node.invoke` retried on another gateway waits for the original's result, the node being
 * invoked once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Frame, TestClient } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { connectNode, nextInvoke } from "../helpers/node.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { operatorOn, waitSynced } from "../helpers/cluster-state.js";
import { startFakeOpenAI } from "../fakes/fake-openai.js";

/** Sends `agent` and resolves with its first response (the ack) and a promise of its second (the final). */
async function agentCall(client: TestClient, id: string, params: Record<string, unknown>): Promise<{ first: Frame; final: Promise<Frame> }> {
  const firstP = client.next((f) => f.type === "res" && f.id === id, 20_000);
  client.send({ type: "req", id, method: "agent", params });
  const first = await firstP;
  const final = client.next((f) => f.type === "res" && f.id === id && f !== first, 30_000);
  return { first, final };
}

test("agent and chat.send retried on another gateway run once; agent.wait answers from any gateway", async (t) => {
  const openai = await startFakeOpenAI();
  t.after(() => openai.close());
  const nats = await startNatsServer(t);
  const [a, b] = await startClusterGateways(t, nats, 2, {
    config: () => ({
      agents: { defaults: { model: "oa/gpt-a", workspace: "/tmp/clawgate-cluster-idem-ws" } },
      models: { providers: { oa: { baseUrl: openai.baseUrl, apiKey: "sk-test", api: "openai-completions", models: [{ id: "gpt-a" }] } } },
    }),
  });
  const [opA, opB] = (await Promise.all([a, b].map((gw) => operatorOn(t, gw.url)))) as [TestClient, TestClient];
  await Promise.all([opA, opB].map((op) => waitSynced(op, "dedupe")));
  openai.script("gpt-a", { type: "text", text: ["slow ", "reply"], delayMs: 400 }, { type: "text", text: "chat reply", delayMs: 400 });

  // agent on gw-a; the same key on gw-b while it runs answers the ack, and after it the final.
  const params = { message: "hello", idempotencyKey: "idem-agent-1", sessionKey: "main" };
  const original = await agentCall(opA, "a1", params);
  assert.equal(original.first.payload.status, "accepted");
  const retry = await opB.request("agent", params, 10_000);
  assert.equal(retry.ok, true, JSON.stringify(retry.error));
  assert.equal(retry.payload.runId, "idem-agent-1");
  assert.equal(retry.payload.status, "accepted");
  const final = await original.final;
  assert.equal(final.payload.status, "ok");
  const wait = await opB.request("agent.wait", { runId: "idem-agent-1", timeoutMs: 5000 }, 10_000);
  assert.equal(wait.payload.status, "ok");
  const after = await opB.request("agent", params, 10_000);
  assert.equal(after.payload.status, "ok");
  assert.deepEqual(after.payload.result.payloads, final.payload.result.payloads);
  assert.equal(openai.requests.length, 1);

  // chat.send on gw-b; the retry on gw-a is in flight, then finished; agent.wait on gw-a waits for gw-b's run.
  const chat = { sessionKey: "main", message: "chat please", idempotencyKey: "idem-chat-1" };
  const started = await opB.request("chat.send", chat, 10_000);
  assert.equal(started.payload.status, "started");
  const inFlight = await opA.request("chat.send", chat, 10_000);
  assert.equal(inFlight.payload.status, "in_flight");
  const waited = await opA.request("agent.wait", { runId: "idem-chat-1", timeoutMs: 15_000 }, 20_000);
  assert.equal(waited.payload.status, "ok");
  const done = await opA.request("chat.send", chat, 10_000);
  assert.deepEqual(done.payload, { runId: "idem-chat-1", status: "ok" });
  assert.equal(openai.requests.length, 2);
});

test("node.invoke retried with the same idempotencyKey on another gateway invokes the node once and answers with its result", async (t) => {
  const nats = await startNatsServer(t);
  const [a, b] = await startClusterGateways(t, nats, 2);
  const [opA, opB] = (await Promise.all([a, b].map((gw) => operatorOn(t, gw.url)))) as [TestClient, TestClient];
  await Promise.all([opA, opB].map((op) => waitSynced(op, "dedupe")));
  await waitSynced(opA, "pairing");
  const node = await connectNode(a.url, { token: CLUSTER_TOKEN, commands: ["system.which"] });
  t.after(() => node.client.close());

  const params = { nodeId: node.nodeId, command: "system.which", params: { bins: ["git"] }, idempotencyKey: "invoke-once-1", timeoutMs: 10_000 };
  const original = opA.request("node.invoke", params, 15_000);
  const req = await nextInvoke(node);
  // The retry lands on gw-b, where the node is not connected: it is answered from gw-a's
  // invoke whether it claims before the node answers (it waits) or after (the record).
  const retry = opB.request("node.invoke", params, 15_000);
  const ack = await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: true, payloadJSON: '{"git":"/usr/bin/git"}' });
  assert.equal(ack.ok, true);
  const [first, second] = await Promise.all([original, retry]);
  assert.equal(first.ok, true, JSON.stringify(first.error));
  assert.equal(second.ok, true, JSON.stringify(second.error));
  assert.deepEqual(second.payload, first.payload);
  const again = await opB.request("node.invoke", params, 15_000);
  assert.deepEqual(again.payload, first.payload);
  const invokes = node.client.frames.filter((f) => f.type === "event" && f.event === "node.invoke.request");
  assert.equal(invokes.length, 1, "the node was invoked once");
});
