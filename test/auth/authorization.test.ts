/** Per-method authorisation (§3.0) and post-handshake frame handling (§2.12). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";

test("scopes and roles gate methods before lookup, with the reference's messages", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const read = await connectOk(gw.url, { scopes: ["operator.read"] });
  const write = await connectOk(gw.url, { scopes: ["operator.write"] });
  const node = await connectOk(gw.url, { role: "node", device: createDevice(), client: { id: "node-host", mode: "node" } });
  const admin = await connectOk(gw.url);
  t.after(() => [read, write, node, admin].forEach((c) => c.client.close()));

  assert.equal((await read.client.request("health")).ok, true);
  assert.equal((await read.client.request("system-presence")).ok, true);
  assert.equal((await read.client.request("system-event", { text: "x" })).error?.message, "missing scope: operator.admin");
  assert.equal((await read.client.request("send", {})).error?.message, "missing scope: operator.write");
  assert.equal((await read.client.request("device.pair.list", {})).error?.message, "missing scope: operator.pairing");
  assert.equal((await read.client.request("exec.approval.request", {})).error?.message, "missing scope: operator.approvals");
  assert.equal((await read.client.request("no.such.method")).error?.message, "missing scope: operator.admin");
  assert.equal((await write.client.request("status")).ok, true, "write implies read");
  assert.equal((await admin.client.request("no.such.method")).error?.message, "unknown method: no.such.method");
  assert.equal((await admin.client.request("node.event", {})).error?.message, "unauthorized role: operator");
  assert.equal((await node.client.request("health")).error?.message, "unauthorized role: node");
});

test("invalid frames after the handshake get INVALID_REQUEST; non-JSON is ignored", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  client.sendRaw("not json at all");
  client.send({ type: "req", id: "abc", method: "" });
  const bad = await client.next((f) => f.type === "res" && f.id === "abc");
  assert.equal(bad.error?.code, "INVALID_REQUEST");
  assert.match(bad.error!.message, /^invalid request frame: at \/method: must NOT have fewer than 1 characters/);
  client.send({ type: "nope" });
  const anon = await client.next((f) => f.type === "res" && f.id === "invalid");
  assert.match(anon.error!.message, /^invalid request frame: /);
  const h = await client.request("health");
  assert.equal(h.ok, true, "socket stays open and answers");
});
