/**
 * Operator events across three real gateway processes: pairing events raised on gw-a
 * reaches operators on gw-b and gw-c exactly once (and gw-a's own operator once, not
 * again through the broker), only operators whose view may see it, and `/metrics` of the
 * receiving gateway counts the remote fan-out and the broker.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { runCli } from "../helpers/cli.js";
import { connectClient, connectOk, type TestClient } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { hasGateways, untilPresence } from "../helpers/cluster-presence.js";
import { startNatsServer } from "../helpers/nats-server.js";

async function operator(url: string, scopes: string[], t: { after: (fn: () => void) => void }): Promise<TestClient> {
  const { client } = await connectOk(url, { token: CLUSTER_TOKEN, scopes, client: { id: "test", mode: "test" } });
  t.after(() => client.close());
  return client;
}

function pairEvents(c: TestClient, event: string, nodeId: string): number {
  return c.frames.filter((f) => f.type === "event" && f.event === event && (f.payload as { nodeId?: string }).nodeId === nodeId).length;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${CLUSTER_TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

function sample(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=,]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

test("pairing events raised on gw-a reach operators on every gateway exactly once", async (t) => {
  const nats = await startNatsServer(t);
  // The loopback peer is a trusted proxy, so a device can connect "from" a remote address.
  const gws = await startClusterGateways(t, nats, 3, { config: () => ({ gateway: { trustedProxies: ["127.0.0.1"] } }) });
  const [a, b, c] = (await Promise.all(gws.map((g) => operator(g.url, ["operator.admin"], t)))) as [TestClient, TestClient, TestClient];
  const readOnlyOnB = await operator(gws[1]!.url, ["operator.read"], t);
  // Every gateway's subscriptions are up once each sees the others' presence.
  for (const op of [a, b, c]) await untilPresence(op, (l) => hasGateways(l, ["gw-a", "gw-b", "gw-c"]), 15_000);
  const before = await scrape(gws[1]!.proc.port);

  // A device connecting to gw-a from a remote address needs pairing: device.pair.requested.
  const device = createDevice();
  const refused = await connectClient(gws[0]!.url, { device, token: CLUSTER_TOKEN, headers: { "X-Forwarded-For": "203.0.113.7" } });
  refused.client.close();
  assert.equal(refused.res.error?.message, "pairing required");
  const isDeviceRequest = (f: { event?: string; payload?: { deviceId?: string } }): boolean => f.event === "device.pair.requested" && f.payload?.deviceId === device.id;
  for (const op of [a, b, c]) await op.next(isDeviceRequest);

  const nodeId = `node-${randomUUID()}`;
  const res = await a.request("node.pair.request", { nodeId, displayName: "edge" });
  assert.equal(res.ok, true);
  const requestId = (res.payload as { request: { requestId: string } }).request.requestId;
  const t0 = performance.now();
  const seenOnB = await b.next((f) => f.event === "node.pair.requested" && f.payload?.nodeId === nodeId);
  t.diagnostic(`node.pair.requested on gw-b ${(performance.now() - t0).toFixed(1)} ms after the response on gw-a`);
  assert.equal(typeof seenOnB.seq, "number", "a broadcast of gw-b's own view, with its seq");
  await c.next((f) => f.event === "node.pair.requested" && f.payload?.nodeId === nodeId);

  // Barrier: a later event from the same origin arrives after any duplicate would have.
  const approved = await a.request("node.pair.approve", { requestId });
  assert.equal(approved.ok, true);
  for (const op of [a, b, c]) await op.next((f) => f.event === "node.pair.resolved" && f.payload?.nodeId === nodeId);
  for (const [name, op] of [["gw-a", a], ["gw-b", b], ["gw-c", c]] as const) {
    assert.equal(op.frames.filter(isDeviceRequest).length, 1, `${name}: device.pair.requested exactly once`);
    assert.equal(pairEvents(op, "node.pair.requested", nodeId), 1, `${name}: requested exactly once`);
    assert.equal(pairEvents(op, "node.pair.resolved", nodeId), 1, `${name}: resolved exactly once`);
  }
  // Seq stays contiguous for a view that received remote events.
  const seqs = b.frames.filter((f) => f.type === "event" && typeof f.seq === "number").map((f) => f.seq as number);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] as number) + 1);
  // Pairing events stay in the pairing audience on the receiving gateway too.
  assert.equal(readOnlyOnB.frames.some((f) => typeof f.event === "string" && /^(node|device)\.pair\./.test(f.event)), false);

  const after = await scrape(gws[1]!.proc.port);
  assert.equal(sample(after, "clawgate_cluster_remote_event_fanouts_total") - sample(before, "clawgate_cluster_remote_event_fanouts_total"), 3);
  assert.equal(sample(after, "clawgate_cluster_broker_connected"), 1);
  assert.ok(sample(after, 'clawgate_cluster_messages_total{direction="in",kind="events"}') >= 3);
  assert.ok(sample(after, 'clawgate_cluster_messages_total{direction="out",kind="presence"}') > 0);
  assert.ok(sample(after, "clawgate_cluster_broker_rtt_seconds") >= 0);
  assert.equal(sample(after, "clawgate_cluster_broker_reconnects_total"), 0);

  // The operator's view of the cluster: `clawdbot health` and `clawdbot gateway status`.
  const env = gws[1]!.env.env;
  const health = await runCli(["health", "--verbose", "--url", gws[1]!.url, "--token", CLUSTER_TOKEN], env);
  assert.equal(health.code, 0, health.stderr);
  assert.match(health.stdout, /^Cluster: {2}test as gw-b, broker connected to (nats:\/\/)?127\.0\.0\.1:\d+ \(rtt [\d.]+ ms, 0 reconnects\)$/m);
  assert.match(health.stdout, /^Members: {2}gw-b \(this gateway\), .*gw-a \(\d+ presence entr/m);
  assert.match(health.stdout, /^Members: .*gw-c \(\d+ presence entr/m);
  const status = await runCli(["gateway", "status", "--url", gws[1]!.url, "--token", CLUSTER_TOKEN], env);
  assert.match(status.stdout, /^RPC probe: ok/m, status.stdout + status.stderr);
  assert.match(status.stdout, /^Cluster: {2}test as gw-b, broker connected/m);
});
