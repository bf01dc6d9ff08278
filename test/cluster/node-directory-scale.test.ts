/**
 * The node directory at fleet size, in-process on a real nats-server: 15,000 nodes of one
 * gateway reach another gateway's mirror; idle heartbeats write membership records only;
 * when the owner dies (no clean stop) all 15,000 leave the other's view within the
 * membership window, and they are removed from the bucket (by the surviving gateway's
 * janitor or the dead gateway's next run, whichever comes first).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { ClusterConnection } from "../../src/main/cluster/cluster-connection.js";
import { ClusterMembers } from "../../src/main/cluster/cluster-members.js";
import { NodeDirectory } from "../../src/main/cluster/node-directory.js";
import { NodeRegistry } from "../../src/main/nodes/node-registry.js";
import { NodeSession } from "../../src/main/nodes/node-session.js";
import type { Connection } from "../../src/main/socket/connection.js";
import { until } from "../helpers/cluster-nodes.js";
import { startNatsServer } from "../helpers/nats-server.js";

const log = pino({ level: "silent" });
const FLEET = 15_000;
const HEARTBEAT_MS = 250;

/** The fields of a Connection a NodeSession reads. */
function fakeNodeConnection(nodeId: string): Connection {
  const fake = { nodeId, connectedAtMs: Date.now(), info: { clientIp: "10.0.0.1" }, params: { client: { id: "node-host", platform: "darwin", version: "1.0.0", mode: "node", displayName: `n-${nodeId}` }, caps: [] } };
  return fake as unknown as Connection;
}

interface Gateway {
  connection: ClusterConnection;
  members: ClusterMembers;
  directory: NodeDirectory;
  registry: NodeRegistry;
}

function gateway(t: { after: (fn: () => unknown) => void }, url: string, id: string): Gateway {
  const connection = new ClusterConnection({ servers: [url] }, id, log);
  const registry = new NodeRegistry();
  const members = new ClusterMembers({ connection, bucket: "clawgate_scale_members", gatewayId: id, heartbeatMs: HEARTBEAT_MS, log, listening: () => null, nodeCount: () => registry.size });
  const directory = new NodeDirectory({ connection, bucket: "clawgate_scale_nodes", gatewayId: id, members, registry, isPaired: () => false, log, snapshotTimeoutMs: 5000 });
  members.start();
  directory.start();
  connection.start();
  t.after(async () => {
    directory.close();
    await members.close();
    await connection.close();
  });
  return { connection, members, directory, registry };
}

async function streamLastSeq(g: Gateway, stream: string): Promise<number> {
  const h = await g.connection.ready(5000);
  return (await h.jsm.streams.info(stream)).state.last_seq;
}

test("15,000 nodes: mirrored by another gateway, no idle writes, gone with their gateway, then removed from the bucket", async (t) => {
  const nats = await startNatsServer(t);
  const a = gateway(t, nats.url, "gw-a");
  const b = gateway(t, nats.url, "gw-b");
  await a.connection.ready(5000);
  await b.connection.ready(5000);
  await until("gw-a to sync its directory", () => a.directory.stats().synced, 10_000);

  for (let i = 0; i < FLEET; i++) {
    const session = new NodeSession(`node-${i}`, fakeNodeConnection(`node-${i}`), ["system.run"], "macos");
    a.registry.register(session);
    a.directory.publish(session);
  }
  const t0 = Date.now();
  await a.directory.flushed();
  await until("gw-b to see every node of gw-a", () => b.directory.stats().remote === FLEET, 60_000, 50);
  t.diagnostic(`${FLEET} directory puts reached gw-b's mirror in ${Date.now() - t0} ms`);
  const n = b.directory.lookup("node-4242");
  assert.equal(n?.gatewayId, "gw-a");
  assert.equal(n?.info.displayName, "n-node-4242");
  assert.equal(a.directory.lookup("node-4242"), undefined, "a gateway does not route its own nodes remotely");

  const nodesSeq = await streamLastSeq(b, "KV_clawgate_scale_nodes");
  const membersSeq = await streamLastSeq(b, "KV_clawgate_scale_members");
  await until("four heartbeats of both gateways", async () => (await streamLastSeq(b, "KV_clawgate_scale_members")) >= membersSeq + 8, 20 * HEARTBEAT_MS);
  assert.equal(await streamLastSeq(b, "KV_clawgate_scale_nodes"), nodesSeq, "idle heartbeats do not rewrite directory entries");

  // gw-a dies without a clean stop: its broker connection just goes away.
  await a.connection.close();
  const died = Date.now();
  await until("gw-a's nodes to leave gw-b's view", () => b.directory.stats().remote === 0, 10_000, 10);
  const gone = Date.now() - died;
  t.diagnostic(`${FLEET} nodes left gw-b's view ${gone} ms after their gateway died`);
  assert.ok(gone <= 3.5 * HEARTBEAT_MS + 1000, `gone after ${gone} ms`);
  assert.equal(b.directory.lookup("node-4242"), undefined);

  // gw-a's next run (same id, no nodes yet) starts too; either it or gw-b's janitor empties the bucket.
  const a2 = gateway(t, nats.url, "gw-a");
  await until("gw-a's stale entries to leave the bucket", async () => {
    const h = a2.connection.current();
    if (!h) return false;
    const kv = await h.kvm.open("clawgate_scale_nodes");
    const e = await kv.get("node-4242");
    return e === null || e.operation !== "PUT";
  }, 60_000, 100);
  await a2.directory.flushed();
  await until("the mirror of gw-b to drop every stale entry", () => b.directory.stats().entries === 0, 30_000, 50);
});
