/**
 * Shared records (kv-records.ts) with two writers on one broker: concurrent changes of the
 * same device record by two gateways — one rotating the operator token, the other the node
 * token — are never lost (revision-checked writes, merge on conflict), both caches converge,
 * and a write while the broker is down is refused and rolled back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { ClusterConnection } from "../../src/main/cluster/cluster-connection.js";
import { KvRecords, type RecordKind } from "../../src/main/cluster/kv-records.js";
import { mergePairedDevice } from "../../src/main/cluster/pairing-merge.js";
import { sanitizePairedDevice } from "../../src/shared/store/device-pairing-files.js";
import type { PairedDevice } from "../../src/shared/store/device-pairing-types.js";
import { issueDeviceToken } from "../../src/shared/store/device-tokens.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { mulberry32 } from "../helpers/seeded-random.js";

const log = pino({ level: "silent" });

interface Member {
  cache: Map<string, PairedDevice>;
  records: KvRecords;
  kind: RecordKind<PairedDevice>;
  conn: ClusterConnection;
}

async function member(t: { after: (fn: () => Promise<void> | void) => void }, url: string, id: string): Promise<Member> {
  const conn = new ClusterConnection({ servers: [url] }, id, log);
  const cache = new Map<string, PairedDevice>();
  const records = new KvRecords(conn, { bucket: "clawgate_test_records", writeTimeoutMs: 2000 }, log);
  const kind: RecordKind<PairedDevice> = {
    prefix: "device",
    sanitize: sanitizePairedDevice,
    local: (k) => (cache.has(k) ? structuredClone(cache.get(k)) : undefined),
    apply: (k, v) => (v === undefined ? cache.delete(k) : cache.set(k, structuredClone(v))),
    merge: mergePairedDevice,
  };
  records.register(kind);
  records.start();
  conn.start();
  t.after(async () => {
    records.close();
    await conn.close();
  });
  await conn.ready(10_000);
  await records.whenSynced();
  return { cache, records, kind, conn };
}

/** Mutates the cached record like a store does, then shares it. */
function rotate(m: Member, deviceId: string, role: string, now: number): { token: string; done: Promise<void> } {
  const d = m.cache.get(deviceId);
  assert.ok(d, "device cached");
  const t = issueDeviceToken(d, role, [], now);
  const done = m.records.write(m.kind, deviceId, structuredClone(d), "ack") as Promise<void>;
  return { token: t.token, done };
}

async function converged(ms: Member[], deviceId: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const texts = ms.map((m) => {
      const d = m.cache.get(deviceId);
      return d === undefined ? "absent" : JSON.stringify(Object.entries(d.tokens ?? {}).sort(([x], [y]) => (x < y ? -1 : 1)));
    });
    if (texts[0] !== "absent" && texts.every((x) => x === texts[0])) return;
    if (Date.now() > deadline) throw new Error(`caches did not converge: ${texts.join(" vs ")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("two writers rotating different roles of one device concurrently never lose a change", async (t) => {
  const nats = await startNatsServer(t);
  const a = await member(t, nats.url, "gw-a");
  const b = await member(t, nats.url, "gw-b");
  const deviceId = "dev-1";
  const base: PairedDevice = { deviceId, publicKey: "pk", createdAtMs: 1, approvedAtMs: 1, roles: ["node", "operator"], scopes: [] };
  a.cache.set(deviceId, structuredClone(base));
  await a.records.write(a.kind, deviceId, structuredClone(base), "ack");
  await converged([a, b], deviceId);
  assert.ok(b.cache.has(deviceId));

  const rand = mulberry32(7);
  let conflictsSeen = 0;
  for (let round = 1; round <= 40; round++) {
    const delay = Math.floor(rand() * 3);
    const ra = rotate(a, deviceId, "operator", round);
    await new Promise((r) => setTimeout(r, delay));
    const rb = rotate(b, deviceId, "node", round);
    await Promise.all([ra.done, rb.done]);
    await converged([a, b], deviceId);
    const tokens = a.cache.get(deviceId)?.tokens ?? {};
    if (tokens.operator?.token !== ra.token || tokens.node?.token !== rb.token) conflictsSeen += 1;
    assert.equal(tokens.operator?.token, ra.token, `round ${round}: gw-a's acknowledged rotation survived`);
    assert.equal(tokens.node?.token, rb.token, `round ${round}: gw-b's acknowledged rotation survived`);
  }
  assert.equal(conflictsSeen, 0);
});

test("a write while the broker is down is refused UNAVAILABLE and rolled back to the shared state", async (t) => {
  const nats = await startNatsServer(t);
  const a = await member(t, nats.url, "gw-a");
  const deviceId = "dev-2";
  const base: PairedDevice = { deviceId, publicKey: "pk", createdAtMs: 1, approvedAtMs: 1, roles: ["operator"], scopes: [] };
  a.cache.set(deviceId, structuredClone(base));
  await a.records.write(a.kind, deviceId, structuredClone(base), "ack");
  const before = rotate(a, deviceId, "operator", 2);
  await before.done;
  await nats.stop();
  const deadline = Date.now() + 5000;
  while (a.conn.available() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const refused = rotate(a, deviceId, "operator", 3);
  await assert.rejects(refused.done, (err: Error & { code?: string }) => err.code === "GW_ERR_CLUSTER_UNAVAILABLE");
  assert.equal(a.cache.get(deviceId)?.tokens?.operator?.token, before.token, "the refused rotation was rolled back");
});
