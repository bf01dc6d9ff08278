/**
 * Presence across three real gateway processes on one nats-server: a change on one
 * gateway reaches the merged view (system-presence, hello-ok snapshot, `presence` events)
 * of all three within 500 ms; a gateway killed with -9 leaves the view within the silence
 * bound; after a broker restart the view converges again without restarting a gateway.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { connectOk, type TestClient } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { hasGateways, hasInstance, presenceEvent, untilPresence } from "../helpers/cluster-presence.js";
import { startNatsServer } from "../helpers/nats-server.js";

const HEARTBEAT_MS = 250;
/** 3 silent heartbeats, detected at the next heartbeat tick, plus the broadcast. */
const LEAVE_BOUND_MS = 3 * HEARTBEAT_MS + HEARTBEAT_MS + 500;
const CONVERGE_MS = 500;

async function operator(url: string, t: { after: (fn: () => void) => void }): Promise<TestClient> {
  const { client } = await connectOk(url, { token: CLUSTER_TOKEN, scopes: ["operator.admin"], client: { id: "test", mode: "test" } });
  t.after(() => client.close());
  return client;
}

test("presence converges on three gateways, drops a killed one, and recovers from a broker restart", async (t) => {
  const nats = await startNatsServer(t);
  const gws = await startClusterGateways(t, nats, 3, { cluster: { heartbeatMs: HEARTBEAT_MS } });
  const ids = gws.map((g) => g.id);
  const ops = await Promise.all(gws.map((g) => operator(g.url, t)));
  const [a, b, c] = ops as [TestClient, TestClient, TestClient];
  for (const op of ops) await untilPresence(op, (l) => hasGateways(l, ids), 15_000);

  await t.test("a client connecting to gw-b shows on all three within 500 ms", async () => {
    const instanceId = `probe-${randomUUID()}`;
    const fromA = a.frames.length;
    const fromC = c.frames.length;
    const t0 = performance.now();
    const { client } = await connectOk(gws[1]!.url, { token: CLUSTER_TOKEN, client: { id: "test", mode: "test", instanceId, displayName: "probe-host" } });
    t.after(() => client.close());
    const [evA, evC, onB] = await Promise.all([
      presenceEvent(a, (l) => hasInstance(l, instanceId), 5000, fromA).then(() => performance.now() - t0),
      presenceEvent(c, (l) => hasInstance(l, instanceId), 5000, fromC).then(() => performance.now() - t0),
      untilPresence(b, (l) => hasInstance(l, instanceId), 5000).then(() => performance.now() - t0),
    ]);
    t.diagnostic(`presence convergence: gw-a ${evA.toFixed(1)} ms, gw-c ${evC.toFixed(1)} ms, gw-b (origin) ${onB.toFixed(1)} ms`);
    for (const ms of [evA, evC, onB]) assert.ok(ms < CONVERGE_MS, `converged in ${ms} ms`);
    // The merged view is what a new client's hello-ok snapshot and system-presence carry.
    const { client: late, hello } = await connectOk(gws[2]!.url, { token: CLUSTER_TOKEN, client: { id: "test", mode: "test" } });
    t.after(() => late.close());
    assert.ok(hasInstance(hello.snapshot.presence, instanceId));
    assert.ok(hasGateways(hello.snapshot.presence, ids));
  });

  await t.test("a system-event on gw-c reaches presence events on every gateway within 500 ms", async () => {
    const instanceId = `se-${randomUUID()}`;
    const from = ops.map((o) => o.frames.length);
    const t0 = performance.now();
    const res = await c.request("system-event", { text: "Node: edge-box (10.0.0.9) · mode node · reason periodic", instanceId });
    assert.equal(res.ok, true);
    const times = await Promise.all(ops.map((o, i) => presenceEvent(o, (l) => hasInstance(l, instanceId), 5000, from[i]).then(() => performance.now() - t0)));
    t.diagnostic(`system-event convergence: ${times.map((x) => x.toFixed(1)).join(" / ")} ms`);
    for (const ms of times) assert.ok(ms < CONVERGE_MS, `converged in ${ms} ms`);
  });

  await t.test("kill -9 of gw-c: its entries leave the view within the bound", async () => {
    const instanceId = `on-c-${randomUUID()}`;
    const { client } = await connectOk(gws[2]!.url, { token: CLUSTER_TOKEN, client: { id: "test", mode: "test", instanceId } });
    t.after(() => client.close());
    await untilPresence(a, (l) => hasInstance(l, instanceId), 2000);
    const from = a.frames.length;
    const t0 = performance.now();
    await gws[2]!.kill("SIGKILL");
    const gone = (l: Parameters<typeof hasInstance>[0]) => !hasInstance(l, instanceId) && !hasGateways(l, ["gw-c"]) && hasGateways(l, ["gw-a", "gw-b"]);
    await presenceEvent(a, gone, LEAVE_BOUND_MS + 2000, from);
    const ms = performance.now() - t0;
    t.diagnostic(`gw-c left gw-a's view after ${ms.toFixed(0)} ms (bound ${LEAVE_BOUND_MS} ms)`);
    assert.ok(ms < LEAVE_BOUND_MS, `left after ${ms} ms`);
    await untilPresence(b, gone, 1000);
  });

  await t.test("broker restart: the view converges again without a gateway restart", async () => {
    await nats.restart();
    const instanceId = `after-${randomUUID()}`;
    // gw-b and gw-a reconnect on their own (the client retries every ~0.5 s).
    const { client } = await connectOk(gws[1]!.url, { token: CLUSTER_TOKEN, client: { id: "test", mode: "test", instanceId } });
    t.after(() => client.close());
    const ms = await untilPresence(a, (l) => hasInstance(l, instanceId) && hasGateways(l, ["gw-a", "gw-b"]), 15_000);
    t.diagnostic(`after the broker restart gw-a saw gw-b's new client in ${ms.toFixed(0)} ms`);
    await untilPresence(b, (l) => hasGateways(l, ["gw-a", "gw-b"]), 5000);
  });
});
