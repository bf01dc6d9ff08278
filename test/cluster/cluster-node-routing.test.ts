/**
 * Node routing across three real gateway processes on one nats-server: an operator on
 * gw-a lists, describes and invokes nodes connected to gw-b and gw-c; remote invokes
 * answer exactly like local ones (results, timeouts, refusals, node failures,
 * idempotencyKey forwarding); `health.cluster.members` lists the live gateways; an idle
 * directory is not rewritten per heartbeat.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectOk, type TestClient } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { answerInvokes, connectedNodeIds, until, type ListedNode } from "../helpers/cluster-nodes.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { connectNode, type TestNode } from "../helpers/node.js";

const HEARTBEAT_MS = 250;

interface Member {
  id: string;
  port: number | null;
  nodes: number;
  since: number;
  self: boolean;
}

test("an operator on gw-a sees and invokes nodes of every gateway, with local error shapes", async (t) => {
  const nats = await startNatsServer(t);
  const gws = await startClusterGateways(t, nats, 3);
  const ops: TestClient[] = [];
  const nodes: TestNode[] = [];
  for (const gw of gws) {
    const { client } = await connectOk(gw.url, { token: CLUSTER_TOKEN });
    ops.push(client);
    const node = await connectNode(gw.url, { token: CLUSTER_TOKEN, platform: "darwin", displayName: `node-${gw.id}`, commands: ["system.which", "system.run"] });
    answerInvokes(node, gw.id, (req) => {
      if (req.paramsJSON?.includes("silent")) return null;
      if (req.paramsJSON?.includes("fail")) return { ok: false, error: { code: "EPERM", message: "denied by user" } };
      return { ok: true, payloadJSON: JSON.stringify({ on: gw.id, command: req.command, idempotencyKey: req.idempotencyKey ?? null }) };
    });
    nodes.push(node);
  }
  t.after(() => {
    for (const c of [...ops, ...nodes.map((n) => n.client)]) c.close();
  });
  const [opA, , opC] = ops as [TestClient, TestClient, TestClient];
  const nodeC = nodes[2]!;
  const all = nodes.map((n) => n.nodeId).sort();

  // node.list on every gateway converges to the nodes of all three.
  for (const op of ops) await until("node.list to show all three nodes", async () => JSON.stringify(await connectedNodeIds(op)) === JSON.stringify(all));
  const list = await opA.request("node.list", {});
  const remoteC = (list.payload.nodes as ListedNode[]).find((n) => n.nodeId === nodeC.nodeId);
  assert.equal(remoteC?.displayName, "node-gw-c", "remote node metadata comes from its gateway's directory record");
  assert.deepEqual(remoteC?.commands, ["system.run", "system.which"]);
  const describedRemote = await opA.request("node.describe", { nodeId: nodeC.nodeId });
  const describedLocal = await opC.request("node.describe", { nodeId: nodeC.nodeId });
  assert.equal(describedRemote.ok, true);
  const { ts: _a, ...remoteInfo } = describedRemote.payload as Record<string, unknown>;
  const { ts: _b, ...localInfo } = describedLocal.payload as Record<string, unknown>;
  assert.deepEqual(remoteInfo, localInfo, "node.describe on gw-a equals node.describe on the node's own gateway");

  // A node on gw-c, invoked from gw-a.
  const ok = await opA.request("node.invoke", { nodeId: nodeC.nodeId, command: "system.which", params: { bins: ["git"] }, idempotencyKey: "idem-1" });
  assert.equal(ok.ok, true, JSON.stringify(ok.error));
  assert.deepEqual(ok.payload, {
    ok: true,
    nodeId: nodeC.nodeId,
    command: "system.which",
    payload: { on: "gw-c", command: "system.which", idempotencyKey: "idem-1" },
    payloadJSON: JSON.stringify({ on: "gw-c", command: "system.which", idempotencyKey: "idem-1" }),
  });

  // Every failure answers exactly as the node's own gateway answers it.
  const cases: Record<string, unknown>[] = [
    { command: "system.run", params: { fail: true }, idempotencyKey: "k-fail" },
    { command: "system.run", params: { silent: true }, timeoutMs: 300, idempotencyKey: "k-timeout" },
    { command: "canvas.snapshot", idempotencyKey: "k-refused" },
    { command: "  ", idempotencyKey: "k-blank" },
  ];
  for (const c of cases) {
    const viaA = await opA.request("node.invoke", { nodeId: nodeC.nodeId, ...c });
    const viaC = await opC.request("node.invoke", { nodeId: nodeC.nodeId, ...c });
    assert.equal(viaA.ok, false, JSON.stringify(c));
    assert.deepEqual(viaA.error, viaC.error, `same error through gw-a as on gw-c for ${JSON.stringify(c)}`);
  }
  const unknown = await opA.request("node.invoke", { nodeId: "no-such-node", command: "system.run", idempotencyKey: "k-unknown" });
  assert.deepEqual(unknown.error, { code: "UNAVAILABLE", message: "node not connected", details: { code: "NOT_CONNECTED" } });

  // health.cluster.members: all three live, with their ports and node counts.
  const health = await opA.request("health", { probe: true });
  const members = (health.payload as { cluster: { members: Member[] } }).cluster.members;
  assert.deepEqual(members.map((m) => m.id).sort(), ["gw-a", "gw-b", "gw-c"]);
  for (const m of members) {
    const gw = gws.find((g) => g.id === m.id)!;
    assert.equal(m.port, gw.proc.port, `${m.id} advertises its port`);
    assert.equal(m.nodes, 1);
    assert.equal(typeof m.since, "number");
  }
  assert.equal(members.find((m) => m.self)?.id, "gw-a");

  // Idle: heartbeats rewrite membership records only, never the node directory.
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info("KV_clawgate_test_nodes")).state.last_seq;
  const membersBefore = (await jsm.streams.info("KV_clawgate_test_members")).state.last_seq;
  // Four heartbeats of each of the three gateways.
  await until("membership heartbeats", async () => (await jsm.streams.info("KV_clawgate_test_members")).state.last_seq >= membersBefore + 12, 20 * HEARTBEAT_MS);
  assert.equal((await jsm.streams.info("KV_clawgate_test_nodes")).state.last_seq, before, "no directory writes while idle");
});
