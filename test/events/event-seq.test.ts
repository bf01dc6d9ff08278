/**
 * Per-view `seq`: every client sees a contiguous seq over the broadcasts it may receive,
 * whatever scoped events it may not see flow in between (no false gaps, §1.3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk, type Frame, type TestClient } from "../helpers/client.js";
import { connectNode } from "../helpers/node.js";

function broadcastSeqs(client: TestClient): number[] {
  return client.frames.filter((f) => f.type === "event" && f.seq !== undefined).map((f) => f.seq!);
}

function assertContiguous(name: string, seqs: number[]): void {
  assert.ok(seqs.length > 0, `${name} saw broadcasts`);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `${name} seq ${seqs.join(",")}`);
}

test("read-only, pairing-scoped, approvals-scoped and admin operators and nodes each see a contiguous seq across scoped events", async (t) => {
  const gw = await startTestGateway({ presenceBroadcastWindowMs: 0 });
  t.after(() => gw.close());
  const node = await connectNode(gw.url, { platform: "linux" });
  const { client: admin } = await connectOk(gw.url);
  const { client: reader } = await connectOk(gw.url, { scopes: ["operator.read"] });
  const { client: pairer } = await connectOk(gw.url, { scopes: ["operator.pairing"] });
  const { client: approver } = await connectOk(gw.url, { scopes: ["operator.approvals"] });
  const clients: [string, TestClient][] = [["admin", admin], ["reader", reader], ["pairer", pairer], ["approver", approver], ["node", node.client]];
  t.after(() => clients.forEach(([, c]) => c.close()));

  const bus = gw.server.ctx.bus;
  const presence = (n: number) => bus.broadcast("presence", { presence: [], n }, { withStateVersion: true });
  for (let i = 0; i < 4; i++) {
    presence(i);
    bus.broadcast("node.pair.requested", { requestId: `n${i}`, nodeId: "x", ts: 1 });
    bus.broadcast("tick", { ts: i });
    bus.broadcast("device.pair.resolved", { requestId: `d${i}`, deviceId: "y", decision: "approved", ts: 1 });
    bus.broadcast("exec.approval.requested", { id: `a${i}`, request: {}, createdAtMs: 1, expiresAtMs: 2 });
    bus.broadcast("health", { ok: true, i }, { withStateVersion: true });
  }
  bus.broadcast("tick", { ts: -1 });
  const last = (f: Frame) => f.event === "tick" && f.payload?.ts === -1;
  for (const [, c] of clients) await c.next(last);

  for (const [name, c] of clients) assertContiguous(name, broadcastSeqs(c));
  const count = (c: TestClient, prefix: string) => c.frames.filter((f) => f.event?.startsWith(prefix)).length;
  assert.equal(count(admin, "node.pair."), 4);
  assert.equal(count(admin, "exec.approval."), 4);
  assert.equal(count(pairer, "device.pair."), 4);
  assert.equal(count(pairer, "exec.approval."), 0);
  assert.equal(count(approver, "exec.approval."), 4);
  assert.equal(count(approver, "node.pair."), 0);
  assert.equal(count(reader, "node.pair.") + count(reader, "device.pair.") + count(reader, "exec.approval."), 0);
  assert.equal(count(reader, "presence") >= 4, true);
  assert.equal(count(node.client, "presence") + count(node.client, "health"), 0, "nodes only see `all` events");
  assert.equal(count(node.client, "tick"), 5);
});
