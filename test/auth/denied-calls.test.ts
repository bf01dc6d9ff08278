/** A client that keeps sending calls it may not make is closed; occasional denials are fine. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { DENIED_CALL_BURST } from "../../src/main/auth/denied-call-limit.js";

test("2,000 admin-only calls from a read-only client: the burst is answered, then the socket closes with 1008", { timeout: 15_000 }, async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const ro = await connectOk(gw.url, { scopes: ["operator.read"] });
  t.after(() => ro.client.close());
  for (let i = 0; i < 2000; i++) ro.client.send({ type: "req", id: `a${i}`, method: "config.apply", params: {} });
  const closed = await ro.client.closed;
  assert.deepEqual(closed, { code: 1008, reason: "too many unauthorized requests" });
  const denied = ro.client.frames.filter((f) => f.type === "res" && f.error?.message === "missing scope: operator.admin");
  assert.ok(denied.length <= DENIED_CALL_BURST + 2, `answered ${denied.length} denied calls`);
  assert.ok(denied.length >= DENIED_CALL_BURST, "the burst is answered");
});

test("denied calls within the burst, and allowed calls in any number, keep the connection open", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const ro = await connectOk(gw.url, { scopes: ["operator.read"] });
  t.after(() => ro.client.close());
  for (let i = 0; i < DENIED_CALL_BURST - 1; i++) {
    const r = await ro.client.request("config.apply", {});
    assert.equal(r.error?.message, "missing scope: operator.admin");
  }
  for (let i = 0; i < 200; i++) {
    const r = await ro.client.request("health");
    assert.equal(r.ok, true);
  }
  const last = await ro.client.request("config.apply", {});
  assert.equal(last.error?.message, "missing scope: operator.admin");
  const health = await ro.client.request("health");
  assert.equal(health.ok, true, "still open");
});
