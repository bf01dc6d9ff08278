/** The cluster module's broker connection: config, health section, outage and recovery without a restart. */
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { ClusterConnection } from "../../src/main/cluster/cluster-connection.js";
import { resolveClusterOptions } from "../../src/main/cluster/cluster-options.js";
import { validateConfigObject } from "../../src/shared/config/validate.js";
import { startNatsServer } from "../helpers/nats-server.js";

const log = pino({ level: "silent" });

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("gateway.cluster is validated like the rest of the config", async () => {
  assert.equal((await validateConfigObject({ gateway: { cluster: { enabled: true, name: "prod", nats: { servers: ["nats://a:4222"], token: "x" } } } })).ok, true);
  const badName = await validateConfigObject({ gateway: { cluster: { enabled: true, name: "has space" } } });
  assert.equal(badName.ok, false);
  const typo = await validateConfigObject({ gateway: { cluster: { enabled: true, nats: { sever: [] } } } });
  assert.equal(typo.ok, false);
  assert.match(JSON.stringify(typo), /gateway\.cluster\.nats/);
  assert.equal(resolveClusterOptions(undefined, 18789), undefined);
  assert.equal(resolveClusterOptions({ enabled: false }, 18789), undefined);
  const o = resolveClusterOptions({ enabled: true }, 18789);
  assert.deepEqual(o?.nats.servers, ["nats://127.0.0.1:4222"]);
  assert.equal(o?.name, "clawgate");
  assert.match(o?.gatewayId ?? "", /^[A-Za-z0-9_-]+-18789$/);
});

test("the broker connection survives a broker restart: unavailable while down, handlers re-run on reconnect", async (t) => {
  const nats = await startNatsServer(t);
  const conn = new ClusterConnection({ servers: [nats.url] }, "gw-a", log);
  t.after(() => conn.close());
  let connects = 0;
  conn.onConnected(() => {
    connects += 1;
  });
  conn.start();
  const h = await conn.ready(5000);
  assert.equal(conn.available(), true);
  const kv = await h.kvm.create("clawgate_test_conn", { history: 1 });
  await kv.put("k", "v1");
  assert.equal(connects, 1);
  await nats.stop();
  await until(() => !conn.available(), 5000);
  assert.equal(conn.current(), null);
  await nats.restart();
  await until(() => conn.available() && connects === 2, 10_000);
  assert.equal(conn.status.reconnects, 1);
  const kv2 = await conn.current()!.kvm.open("clawgate_test_conn");
  assert.equal((await kv2.get("k"))?.string(), "v1", "JetStream state survives the broker restart");
});

test("a gateway starts while the broker is down and connects when it appears", async (t) => {
  const nats = await startNatsServer(t);
  await nats.stop();
  const conn = new ClusterConnection({ servers: [nats.url] }, "gw-b", log);
  t.after(() => conn.close());
  conn.start();
  assert.equal(conn.available(), false);
  await nats.restart();
  await conn.ready(10_000);
  assert.equal(conn.available(), true);
});
