/**
 * Node routing when things die: a gateway killed with SIGKILL (its nodes leave every
 * `node.list` within the membership window; invokes in flight to it fail retryable; the
 * node reconnecting elsewhere is routable again; its stale directory entries are
 * removed), and the broker restarted or stopped (no gateway crashes, views converge
 * again, also for nodes that came and went during the outage, remote invokes answer
 * UNAVAILABLE retryable while local ones keep working).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connectOk, type TestClient } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN, type ClusterGateway } from "../helpers/cluster-gateways.js";
import { answerInvokes, connectedNodeIds, until } from "../helpers/cluster-nodes.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { connectNode, type TestNode } from "../helpers/node.js";
import { createDevice } from "../helpers/device.js";

/** The test helper's `gateway.cluster.heartbeatMs`. */
const HEARTBEAT_MS = 250;
/**
 * How long a dead gateway's nodes may stay visible: the membership window (3 heartbeats),
 * the sweep period (half a heartbeat), plus scheduling slack on a loaded test machine.
 */
const GONE_BOUND_MS = 3 * HEARTBEAT_MS + HEARTBEAT_MS / 2 + 1000;

type T = Parameters<typeof startClusterGateways>[0];

async function cluster(t: T): Promise<{ nats: Awaited<ReturnType<typeof startNatsServer>>; gws: ClusterGateway[]; ops: TestClient[]; nodes: TestNode[] }> {
  const nats = await startNatsServer(t);
  const gws = await startClusterGateways(t, nats, 3);
  const ops: TestClient[] = [];
  const nodes: TestNode[] = [];
  for (const gw of gws) {
    ops.push((await connectOk(gw.url, { token: CLUSTER_TOKEN })).client);
    const node = await connectNode(gw.url, { token: CLUSTER_TOKEN, platform: "darwin", commands: ["system.run"] });
    answerInvokes(node, gw.id, (req) => (req.paramsJSON?.includes("silent") ? null : { ok: true, payloadJSON: JSON.stringify({ on: gw.id }) }));
    nodes.push(node);
  }
  (t as { after: (fn: () => Promise<void>) => void }).after(async () => {
    for (const c of [...ops, ...nodes.map((n) => n.client)]) c.close();
  });
  const all = nodes.map((n) => n.nodeId).sort();
  for (const op of ops) await until("node.list to converge", async () => JSON.stringify(await connectedNodeIds(op)) === JSON.stringify(all));
  return { nats, gws, ops, nodes };
}

/** `since` of a member in `health.cluster.members` of `op`'s gateway. */
async function memberSince(op: TestClient, id: string): Promise<number | undefined> {
  const h = await op.request("health", { probe: true });
  const members = (h.payload as { cluster: { members: { id: string; since: number }[] } }).cluster.members;
  return members.find((m) => m.id === id)?.since;
}

function invoke(op: TestClient, nodeId: string, extra: Record<string, unknown> = {}) {
  return op.request("node.invoke", { nodeId, command: "system.run", idempotencyKey: `k-${Math.random()}`, ...extra }, 30_000);
}

test("kill -9 of a gateway: its nodes leave node.list within the membership window and come back through another gateway", async (t) => {
  const { nats, gws, ops, nodes } = await cluster(t);
  const [gwA, , gwC] = gws as [ClusterGateway, ClusterGateway, ClusterGateway];
  const [opA] = ops as [TestClient];
  const nodeC = nodes[2]!;

  const inflight = invoke(opA, nodeC.nodeId, { params: { silent: true }, timeoutMs: 20_000 });
  await nodeC.client.event("node.invoke.request");
  await gwC.kill("SIGKILL");
  const killedAt = Date.now();
  const gone = await until("gw-c's node to leave node.list on gw-a", async () => !(await connectedNodeIds(opA)).includes(nodeC.nodeId), GONE_BOUND_MS + 5000, 10);
  assert.ok(Date.now() - killedAt <= GONE_BOUND_MS, `gone after ${gone} ms; bound ${GONE_BOUND_MS} ms`);
  t.diagnostic(`dead gateway's node left node.list after ${gone} ms (bound ${GONE_BOUND_MS} ms)`);
  const failed = await inflight;
  assert.equal(failed.ok, false);
  assert.equal(failed.error?.code, "UNAVAILABLE");
  assert.equal(failed.error?.retryable, true, "an invoke in flight to a dead gateway fails retryable");
  assert.ok(Date.now() - killedAt < 10_000, "and does not wait for its 20 s timeout");
  const notThere = await invoke(opA, nodeC.nodeId);
  assert.deepEqual(notThere.error, { code: "UNAVAILABLE", message: "node not connected", details: { code: "NOT_CONNECTED" } });

  // The node reconnects to gw-a (same device, same id): routable from every gateway again.
  nodeC.client.close();
  const moved = await connectNode(gwA.url, { token: CLUSTER_TOKEN, device: nodeC.device, platform: "darwin", commands: ["system.run"] });
  t.after(() => moved.client.close());
  answerInvokes(moved, "gw-a");
  const opB = ops[1]!;
  await until("the moved node in node.list on gw-b", async () => (await connectedNodeIds(opB)).includes(nodeC.nodeId));
  const viaB = await invoke(opB, nodeC.nodeId);
  assert.equal(viaB.ok, true, JSON.stringify(viaB.error));
  assert.equal((viaB.payload.payload as { tag: string }).tag, "gw-a");

  // gw-c comes back (same id, new run): it routes to the moved node and leaves its entry alone.
  const sinceBefore = await memberSince(opA, "gw-c");
  await gwC.restart();
  const { client: opC2 } = await connectOk(gwC.url, { token: CLUSTER_TOKEN });
  t.after(() => opC2.close());
  await until("gw-a to see gw-c's new run", async () => {
    const since = await memberSince(opA, "gw-c");
    return since !== undefined && since !== sinceBefore;
  });
  await until("the restarted gw-c to route to the moved node", async () => (await invoke(opC2, nodeC.nodeId)).ok === true);

  // gw-b dies for good with its node: the lowest live gateway removes gw-b's entry from the bucket.
  const nodeB = nodes[1]!;
  await gws[1]!.kill("SIGKILL");
  nodeB.client.close();
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open("clawgate_test_nodes");
  await until("gw-b's directory entry to be removed", async () => {
    const e = await kv.get(nodeB.nodeId);
    return e === null || e.operation !== "PUT";
  }, 10_000, 50);
  const movedEntry = await kv.get(nodeC.nodeId);
  assert.equal(movedEntry?.json<{ gw: string }>().gw, "gw-a", "the moved node's entry belongs to gw-a");
});

test("broker restart and outage: no gateway crashes, node.list converges, remote invokes are UNAVAILABLE retryable while local ones work", async (t) => {
  const { nats, gws, ops, nodes } = await cluster(t);
  const [opA] = ops as [TestClient];
  const [nodeA, , nodeC] = nodes as [TestNode, TestNode, TestNode];
  const all = nodes.map((n) => n.nodeId).sort();

  await nats.restart();
  for (const op of ops) await until("node.list to converge after the broker restart", async () => JSON.stringify(await connectedNodeIds(op)) === JSON.stringify(all), 20_000);
  await until("a remote invoke to work again", async () => (await invoke(opA, nodeC.nodeId)).ok === true);
  for (const gw of gws) assert.equal(gw.proc.child.exitCode, null, `${gw.id} still running`);
  // Pairing is shared state: a device never seen cannot pair while the broker is down, so the
  // node that joins during the outage was paired before it (docs/cluster.md, Pairing).
  const lateDevice = createDevice();
  const prePaired = await connectNode(gws[2]!.url, { token: CLUSTER_TOKEN, platform: "darwin", commands: ["system.run"], device: lateDevice });
  prePaired.client.close();
  await prePaired.client.closed;

  await nats.stop();
  await until("gw-a to see the broker gone", async () => {
    const h = await opA.request("health", { probe: true });
    return (h.payload as { cluster: { broker: { connected: boolean } } }).cluster.broker.connected === false;
  });
  const remote = await invoke(opA, nodeC.nodeId);
  assert.equal(remote.ok, false);
  assert.equal(remote.error?.code, "UNAVAILABLE");
  assert.equal(remote.error?.retryable, true);
  assert.match(remote.error?.message ?? "", /cluster broker unavailable/);
  const local = await invoke(opA, nodeA.nodeId);
  assert.equal(local.ok, true, JSON.stringify(local.error));
  assert.equal((local.payload.payload as { on: string }).on, "gw-a");

  // Changes during the outage: a node joins gw-c, gw-b's node leaves. Neither reaches the broker now.
  const late = await connectNode(gws[2]!.url, { token: CLUSTER_TOKEN, platform: "darwin", commands: ["system.run"], device: lateDevice });
  t.after(() => late.client.close());
  answerInvokes(late, "late");
  const nodeB = nodes[1]!;
  nodeB.client.close();
  await nodeB.client.closed;
  const after = [nodeA.nodeId, nodeC.nodeId, late.nodeId].sort();

  await nats.restart();
  await until("a remote invoke to work after the outage", async () => (await invoke(opA, nodeC.nodeId)).ok === true, 20_000);
  // Each gateway reconciles its directory entries with its sessions once it is back.
  for (const op of ops) await until("node.list to converge after the outage", async () => JSON.stringify(await connectedNodeIds(op)) === JSON.stringify(after), 20_000);
  const viaA = await invoke(opA, late.nodeId);
  assert.equal(viaA.ok, true, JSON.stringify(viaA.error));
  for (const gw of gws) assert.equal(gw.proc.child.exitCode, null, `${gw.id} still running`);
});
