/** Graceful stop: shutdown event, in-flight requests answered, then 1012; new requests refused. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { connectNode, nextInvoke } from "../helpers/node.js";

test("in-flight requests are answered before sockets close 1012; requests after shutdown began get UNAVAILABLE", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const gw = await startTestGateway({
    extra: {
      registerMethods: (table) =>
        table.add("test.slow", undefined, async () => {
          started();
          await gate;
          return { done: true };
        }),
    },
  });
  let closedByTest = false;
  t.after(() => (closedByTest ? undefined : gw.close()));
  const { client } = await connectOk(gw.url);
  const slow = client.request("test.slow", {}, 10_000);
  await running;
  const stopping = gw.close();
  closedByTest = true;
  const ev = await client.event("shutdown");
  assert.equal(ev.payload.reason, "gateway stopping");
  const refused = await client.request("health");
  assert.equal(refused.error?.code, "UNAVAILABLE");
  assert.equal(refused.error?.retryable, true);
  assert.equal(client.frames.some((f) => f.type === "res" && f.payload?.done), false);
  release();
  const res = await slow;
  assert.deepEqual(res.payload, { done: true });
  assert.deepEqual(await client.closed, { code: 1012, reason: "service restart" });
  await stopping;
});

test("a node.invoke still waiting for its node at shutdown is answered UNAVAILABLE (retryable) before the 1012 close", async (t) => {
  const gw = await startTestGateway();
  let closedByTest = false;
  t.after(() => (closedByTest ? undefined : gw.close()));
  const node = await connectNode(gw.url, { platform: "darwin", commands: ["system.which"] });
  const { client: op } = await connectOk(gw.url);
  const pending = op.request("node.invoke", { nodeId: node.nodeId, command: "system.which", params: {}, timeoutMs: 60_000, idempotencyKey: "k" }, 20_000);
  await nextInvoke(node); // the node never answers
  closedByTest = true;
  const stopping = gw.close();
  const res = await pending;
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "UNAVAILABLE");
  assert.equal(res.error?.retryable, true);
  assert.match(String(res.error?.message), /shutting down/);
  assert.deepEqual(await op.closed, { code: 1012, reason: "service restart" });
  const resIndex = op.frames.findIndex((f) => f.type === "res" && f.id === res.id);
  assert.equal(op.frames.filter((f) => f.type === "res" && f.id === res.id).length, 1, "answered exactly once");
  assert.ok(resIndex >= 0);
  await stopping;
});
