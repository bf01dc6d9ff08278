/**
 * Channel account leases (channel-leases.ts) between two gateways on one broker, with
 * workers simulated by handlers that take 50 ms to stop: exactly one runs; a holder that
 * cannot renew (broker down) halts its worker before its lease could expire and nobody takes
 * over until the broker is back; a released lease is taken by the other at once. At no
 * moment do two workers run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { ClusterConnection } from "../../src/main/cluster/cluster-connection.js";
import { ChannelLeases } from "../../src/main/cluster/channel-leases.js";
import { GatewayRpc } from "../../src/main/cluster/gateway-rpc.js";
import { resolveClusterOptions } from "../../src/main/cluster/cluster-options.js";
import { clusterNames } from "../../src/main/cluster/cluster-subjects.js";
import type { ClusterApi } from "../../src/main/cluster/cluster-module.js";
import { startNatsServer } from "../helpers/nats-server.js";

const log = pino({ level: "silent" });
const LEASE_MS = 600;
const KEY = "telegram.abc";

interface Worker {
  running: boolean;
  startedAt: number[];
  haltedAt: number[];
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("one worker per lease: halted before expiry when renewals fail, taken over only after; released → taken at once", async (t) => {
  const nats = await startNatsServer(t);
  const workers = new Map<string, Worker>();
  let overlaps = 0;
  const leases = new Map<string, ChannelLeases>();
  const connections: ClusterConnection[] = [];
  for (const id of ["gw-a", "gw-b"]) {
    const options = resolveClusterOptions({ enabled: true, name: "leasetest", gatewayId: id, channelLeaseMs: LEASE_MS, requestTimeoutMs: 1000, nats: { servers: [nats.url] } }, 0);
    assert.ok(options);
    const connection = new ClusterConnection(options.nats, id, log);
    connections.push(connection);
    const cluster: ClusterApi = { options, names: clusterNames(options.name), connection, addHealthField: () => undefined };
    const rpc = new GatewayRpc({ connection, subjectOf: (gw) => cluster.names.gatewayRpc(gw), gatewayId: id, log });
    const l = new ChannelLeases({ cluster, rpc, log });
    const w: Worker = { running: false, startedAt: [], haltedAt: [] };
    workers.set(id, w);
    l.start();
    connection.start();
    t.after(async () => {
      l.close();
      await connection.close();
    });
    await connection.ready(10_000);
    leases.set(id, l);
    l.claim(KEY, {
      run: async () => {
        w.running = true;
        w.startedAt.push(Date.now());
        if ([...workers.values()].filter((x) => x.running).length > 1) overlaps += 1;
      },
      halt: async () => {
        await new Promise((r) => setTimeout(r, 50));
        w.running = false;
        w.haltedAt.push(Date.now());
      },
    });
  }
  const running = (): string[] => [...workers].filter(([, w]) => w.running).map(([id]) => id);
  await until(() => running().length === 1, 5000, "one worker running");
  const first = running()[0] as string;
  const other = first === "gw-a" ? "gw-b" : "gw-a";
  // A few renewals go by without a change of owner.
  await new Promise((r) => setTimeout(r, LEASE_MS * 2));
  assert.deepEqual(running(), [first]);
  assert.equal(leases.get(other)?.holder(KEY), first, "the other gateway knows the holder");

  // Broker down: the holder halts; nobody runs until it is back.
  const downAt = Date.now();
  await nats.stop();
  await until(() => running().length === 0, LEASE_MS * 2, "holder halted");
  const haltedAfterMs = Date.now() - downAt;
  assert.ok(haltedAfterMs < LEASE_MS, `halted ${haltedAfterMs} ms after the broker went down (lease ${LEASE_MS} ms)`);
  await new Promise((r) => setTimeout(r, LEASE_MS));
  assert.deepEqual(running(), []);
  await nats.restart();
  await until(() => running().length === 1, 15_000, "one worker running after the broker came back");

  // The holder gives the lease up (stop): the other takes it within a renewal period.
  const holder = running()[0] as string;
  const next = holder === "gw-a" ? "gw-b" : "gw-a";
  // Both back on the broker and agreeing on the holder (the other may still be in its
  // reconnect backoff when the holder already runs): the release is then what is measured.
  await until(() => connections.every((c) => c.available()) && leases.get(next)?.holder(KEY) === holder, 15_000, "both gateways reconnected and agree on the holder");
  const h = workers.get(holder) as Worker;
  await (leases.get(holder) as ChannelLeases).release(KEY);
  h.running = false;
  const releasedAt = Date.now();
  await until(() => running().includes(next), LEASE_MS * 4, "taken after release");
  const takenAfterMs = Date.now() - releasedAt;
  assert.equal(overlaps, 0, "never two workers at once");
  t.diagnostic(`lease ${LEASE_MS} ms: halted ${haltedAfterMs} ms after broker loss; taken ${takenAfterMs} ms after release`);
});
