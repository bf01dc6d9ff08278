/** node.invoke / node.invoke.result over real sockets (§3.11, Appendix B.3, §12.6 #48–50). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { connectOk, type TestClient } from "../helpers/client.js";
import { connectNode, nextInvoke, type TestNode } from "../helpers/node.js";

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, commands = ["system.which", "system.run"]): Promise<{ gw: TestGateway; node: TestNode; op: TestClient }> {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const node = await connectNode(gw.url, { platform: "darwin", commands });
  const { client: op } = await connectOk(gw.url);
  t.after(() => {
    node.client.close();
    op.close();
  });
  return { gw, node, op };
}

test("round trip: node.invoke → unicast node.invoke.request (no seq) → node.invoke.result → result shape", async (t) => {
  const { gw, node, op } = await setup(t);
  const pending = op.request("node.invoke", { nodeId: node.nodeId, command: "system.which", params: { bins: ["git"] }, idempotencyKey: "k1" });
  const req = await nextInvoke(node);
  assert.equal(req.seq, undefined, "unicast carries no seq");
  assert.deepEqual(Object.keys(req.payload), ["id", "nodeId", "command", "paramsJSON", "idempotencyKey"], "no timeoutMs when none was given");
  assert.match(req.payload.id, /^[0-9a-f-]{36}$/);
  assert.equal(req.payload.nodeId, node.nodeId);
  assert.equal(req.payload.command, "system.which");
  assert.equal(req.payload.paramsJSON, '{"bins":["git"]}');
  assert.equal(req.payload.idempotencyKey, "k1");
  assert.equal(gw.nodes.invokes.size, 1);

  const ack = await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: true, payloadJSON: '{"git":"/usr/bin/git"}' });
  assert.deepEqual(ack.payload, { ok: true });
  const res = await pending;
  assert.equal(res.ok, true);
  assert.deepEqual(res.payload, {
    ok: true,
    nodeId: node.nodeId,
    command: "system.which",
    payload: { git: "/usr/bin/git" },
    payloadJSON: '{"git":"/usr/bin/git"}',
  });
  assert.equal(gw.nodes.invokes.size, 0, "settled invokes leave no state behind");
});

test("result variants: payload object, unparseable payloadJSON, pre-normalised nulls, node-reported failure", async (t) => {
  const { node, op } = await setup(t);
  const invoke = async (result: Record<string, unknown>) => {
    const pending = op.request("node.invoke", { nodeId: node.nodeId, command: "system.run", timeoutMs: 5000, idempotencyKey: "k" });
    const req = await nextInvoke(node, node.client.frames.length);
    assert.equal(req.payload.paramsJSON, null, "no params → paramsJSON null");
    assert.equal(req.payload.timeoutMs, 5000, "timeoutMs forwarded");
    const ack = await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ...result });
    assert.equal(ack.ok, true, JSON.stringify(ack.error));
    return pending;
  };
  const a = await invoke({ ok: true, payload: { x: 1 } });
  assert.deepEqual(a.payload, { ok: true, nodeId: node.nodeId, command: "system.run", payload: { x: 1 }, payloadJSON: null });
  const b = await invoke({ ok: true, payloadJSON: "not json" });
  assert.deepEqual(b.payload.payload, { payloadJSON: "not json" });
  assert.equal(b.payload.payloadJSON, "not json");
  // payloadJSON:null and error:null are dropped; a non-string payloadJSON becomes payload.
  const c = await invoke({ ok: true, payloadJSON: { y: 2 }, error: null });
  assert.deepEqual(c.payload.payload, { y: 2 });
  const d = await invoke({ ok: true, payloadJSON: null, payload: [1, 2] });
  assert.deepEqual(d.payload.payload, [1, 2]);
  const e = await invoke({ ok: false, error: { code: "EPERM", message: "denied by user" } });
  assert.equal(e.ok, false);
  assert.deepEqual(e.error, { code: "UNAVAILABLE", message: "denied by user", details: { nodeError: { code: "EPERM", message: "denied by user" } } });
  const f = await invoke({ ok: false });
  assert.deepEqual(f.error, { code: "UNAVAILABLE", message: "node invoke failed", details: { nodeError: null } });
  const bad = await node.client.request("node.invoke.result", { id: "x", nodeId: node.nodeId, ok: "yes" });
  assert.equal(bad.error?.code, "INVALID_REQUEST");
  assert.match(bad.error!.message, /^invalid node\.invoke\.result params: /);
});

test("timeout: UNAVAILABLE with nodeError TIMEOUT; a late result (with or without error) is acknowledged as ignored", async (t) => {
  const { gw, node, op } = await setup(t);
  const started = Date.now();
  const pending = op.request("node.invoke", { nodeId: node.nodeId, command: "system.run", timeoutMs: 80, idempotencyKey: "k" });
  const req = await nextInvoke(node);
  const res = await pending;
  assert.ok(Date.now() - started >= 70, "not before its deadline");
  assert.deepEqual(res.error, {
    code: "UNAVAILABLE",
    message: "node invoke timed out",
    details: { nodeError: { code: "TIMEOUT", message: "node invoke timed out" } },
  });
  assert.equal(gw.nodes.invokes.size, 0);
  const late = await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: true, payloadJSON: "{}" });
  assert.deepEqual(late.payload, { ok: true, ignored: true });
  const lateErr = await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: false, error: { code: "X", message: "boom" } });
  assert.deepEqual(lateErr.payload, { ok: true, ignored: true });
  const unknown = await node.client.request("node.invoke.result", { id: "never-issued", nodeId: node.nodeId, ok: true });
  assert.deepEqual(unknown.payload, { ok: true, ignored: true });
});

test("timeouts with different deadlines fire in deadline order from one shared timer structure", async (t) => {
  const { node, op } = await setup(t);
  const order: number[] = [];
  const all = [300, 60, 180].map((ms) =>
    op.request("node.invoke", { nodeId: node.nodeId, command: "system.run", timeoutMs: ms, idempotencyKey: `k${ms}` }).then((r) => {
      assert.equal(r.error?.message, "node invoke timed out");
      order.push(ms);
    }),
  );
  await Promise.all(all);
  assert.deepEqual(order, [60, 180, 300]);
});

test("a node's disconnect fails all its pending invokes at once; other nodes' invokes are untouched", async (t) => {
  const { gw, node, op } = await setup(t);
  const other = await connectNode(gw.url, { platform: "linux", commands: ["system.run"] });
  t.after(() => other.client.close());
  const mine = ["system.run", "system.which", "system.run"].map((command, i) =>
    op.request("node.invoke", { nodeId: node.nodeId, command, idempotencyKey: `m${i}` }),
  );
  const theirs = op.request("node.invoke", { nodeId: other.nodeId, command: "system.run", idempotencyKey: "o" });
  await node.client.next(() => node.client.frames.filter((f) => f.event === "node.invoke.request").length === 3);
  const otherReq = await nextInvoke(other);
  assert.equal(gw.nodes.invokes.size, 4);

  node.client.terminate();
  const results = await Promise.all(mine);
  assert.deepEqual(
    results.map((r) => r.error),
    [
      { code: "UNAVAILABLE", message: "Error: node disconnected (system.run)" },
      { code: "UNAVAILABLE", message: "Error: node disconnected (system.which)" },
      { code: "UNAVAILABLE", message: "Error: node disconnected (system.run)" },
    ],
  );
  assert.equal(gw.nodes.invokes.size, 1, "only the other node's invoke is left");
  await other.client.request("node.invoke.result", { id: otherReq.payload.id, nodeId: other.nodeId, ok: true, payload: "fine" });
  assert.equal((await theirs).payload.payload, "fine");

  const gone = await op.request("node.invoke", { nodeId: node.nodeId, command: "system.run", idempotencyKey: "after" });
  assert.deepEqual(gone.error, { code: "UNAVAILABLE", message: "node not connected", details: { code: "NOT_CONNECTED" } });
});

test("nodeId mismatch: a node cannot answer for another node; the invoke stays pending for the right one", async (t) => {
  const { gw, node, op } = await setup(t);
  const imposter = await connectNode(gw.url, { platform: "darwin", commands: ["system.run"] });
  t.after(() => imposter.client.close());
  const pending = op.request("node.invoke", { nodeId: node.nodeId, command: "system.run", idempotencyKey: "k" });
  const req = await nextInvoke(node);
  const forged = await imposter.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: true, payload: "forged" });
  assert.deepEqual(forged.error, { code: "INVALID_REQUEST", message: "nodeId mismatch", details: { nodeId: node.nodeId } });
  // An id sent to another node, answered under the imposter's own id, is ignored.
  const wrongNode = await imposter.client.request("node.invoke.result", { id: req.payload.id, nodeId: imposter.nodeId, ok: true });
  assert.deepEqual(wrongNode.payload, { ok: true, ignored: true });
  await node.client.request("node.invoke.result", { id: req.payload.id, nodeId: node.nodeId, ok: true, payload: "real" });
  assert.equal((await pending).payload.payload, "real");
});

test("step 1–2 errors; role guards on node-only and operator methods (§12.6 #48)", async (t) => {
  const { gw, node, op } = await setup(t);
  const blank = await op.request("node.invoke", { nodeId: "  ", command: "system.run", idempotencyKey: "k" });
  assert.deepEqual(blank.error, { code: "INVALID_REQUEST", message: "nodeId and command required" });
  const schema = await op.request("node.invoke", { nodeId: node.nodeId, command: "system.run" });
  assert.match(schema.error!.message, /^invalid node\.invoke params: /);
  const missing = await op.request("node.invoke", { nodeId: "nope", command: "system.run", idempotencyKey: "k" });
  assert.deepEqual(missing.error, { code: "UNAVAILABLE", message: "node not connected", details: { code: "NOT_CONNECTED" } });
  const opResult = await op.request("node.invoke.result", { id: "x", nodeId: "y", ok: true });
  assert.equal(opResult.error?.message, "unauthorized role: operator");
  const opEvent = await op.request("node.event", { event: "chat.subscribe" });
  assert.equal(opEvent.error?.message, "unauthorized role: operator");
  const nodeInvoke = await node.client.request("node.invoke", { nodeId: node.nodeId, command: "system.run", idempotencyKey: "k" });
  assert.equal(nodeInvoke.error?.message, "unauthorized role: node");
  const readOnly = await connectOk(gw.url, { scopes: ["operator.read"] });
  t.after(() => readOnly.client.close());
  const denied = await readOnly.client.request("node.invoke", { nodeId: node.nodeId, command: "system.run", idempotencyKey: "k" });
  assert.equal(denied.error?.message, "missing scope: operator.write");
});
