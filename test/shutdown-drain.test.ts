/** Graceful stop: shutdown event, in-flight requests answered, then 1012; new requests refused. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "./helpers/gateway.js";
import { connectOk } from "./helpers/client.js";

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
