/**
 * The pre-auth budget bounds unauthenticated sockets without refusing legitimate load: a
 * reconnect storm through one address is admitted in full, a flood of sockets that never send
 * `connect` is evicted oldest-first and by the handshake deadline, IPv6 clients share their
 * /64's budget, and frames before `hello-ok` are capped at 64 KiB. Real sockets on 127.0.0.1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { buildConnectParams, connectOk, TestClient } from "../helpers/client.js";
import { NodeFleet } from "../helpers/node-fleet.js";
import { RawWs } from "../helpers/raw-ws.js";
import { CONFIG_DEFAULTS } from "../../src/shared/config/defaults.js";
import { hardPayloadCeiling } from "../../src/main/server/gateway-server.js";

/** The production defaults (the test helper's own budget is not the product's). */
const PRODUCT = { preAuthMaxPerIp: CONFIG_DEFAULTS.gateway.preAuth.maxPerIp };

test("reconnect storm: 2,000 nodes through 127.0.0.1 with 500 handshakes in flight, zero refused", { timeout: 60_000 }, async (t) => {
  const gw = await startTestGateway({ ...PRODUCT });
  const fleet = new NodeFleet({ port: gw.port, count: 2000, token: TEST_TOKEN, concurrency: 500 });
  t.after(async () => {
    fleet.destroyAll();
    await gw.close();
  });
  const closedEarly = (): number => [...fleet.closeCodes.values()].reduce((a, b) => a + b, 0);
  void fleet.connectAll({ timeoutMs: 50_000 }).catch(() => undefined);
  await fleet.until(() => fleet.readyCount + closedEarly() + fleet.refused >= 2000, 50_000);
  assert.deepEqual([...fleet.closeCodes], [], "no socket was closed during the storm");
  assert.equal(fleet.refused, 0);
  assert.equal(fleet.readyCount, 2000);
});

/** Opens `n` upgraded sockets that never send anything. */
async function idleSockets(port: number, n: number, headers: Record<string, string> = {}): Promise<RawWs[]> {
  const out: RawWs[] = [];
  for (let i = 0; i < n; i += 100) out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => RawWs.connect(port, headers)))));
  return out;
}

const closeCode = async (s: RawWs): Promise<number | undefined> => {
  await s.until(() => s.closeFrame() !== undefined);
  return s.closeFrame()?.code;
};

test("over an address's budget its OLDEST unauthenticated socket is evicted with 1013, never the newcomer", async (t) => {
  const gw = await startTestGateway({ preAuthMaxPerIp: 3 });
  t.after(() => gw.close());
  const socks = await idleSockets(gw.port, 3);
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  const newcomer = await RawWs.connect(gw.port);
  socks.push(newcomer);
  assert.equal(await closeCode(socks[0]!), 1013);
  await newcomer.until(() => newcomer.texts().some((x) => x.includes("connect.challenge")));
  assert.equal(newcomer.closeFrame(), undefined);
  assert.equal(gw.server.ctx.registry.pendingFor("127.0.0.1"), 3);
  // A full handshake still goes through (evicting the next oldest idle socket).
  const ok = await connectOk(gw.url);
  ok.client.close();
  assert.equal(await closeCode(socks[1]!), 1013);
});

test("the total budget evicts the oldest unauthenticated socket of any address", async (t) => {
  const gw = await startTestGateway({ preAuthMaxPerIp: 100, preAuthMaxTotal: 4, trustedProxies: ["127.0.0.1"] });
  t.after(() => gw.close());
  const socks: RawWs[] = [];
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  for (let i = 1; i <= 5; i++) socks.push(await RawWs.connect(gw.port, { "X-Forwarded-For": `198.51.100.${i}` }));
  assert.equal(await closeCode(socks[0]!), 1013);
  assert.equal(gw.server.ctx.registry.preAuth.size, 4);
});

test("IPv6 clients share the budget of their /64", async (t) => {
  const gw = await startTestGateway({ preAuthMaxPerIp: 2, trustedProxies: ["127.0.0.1"] });
  t.after(() => gw.close());
  const socks: RawWs[] = [];
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2:ffff::2"]) socks.push(await RawWs.connect(gw.port, { "X-Forwarded-For": ip }));
  assert.equal(gw.server.ctx.registry.pendingFor("2001:db8:1:2::99"), 2, "both count against one /64");
  // Another /64 has its own budget.
  socks.push(await RawWs.connect(gw.port, { "X-Forwarded-For": "2001:db8:1:3::1" }));
  // A third address in the same /64 evicts the /64's oldest.
  socks.push(await RawWs.connect(gw.port, { "X-Forwarded-For": "2001:0db8:0001:0002::3" }));
  assert.equal(await closeCode(socks[0]!), 1013);
  assert.equal(socks[2]!.closeFrame(), undefined, "the other /64 was not touched");
  assert.equal(gw.server.ctx.registry.pendingFor("2001:db8:1:3::7"), 1);
});

test("a flood of 2,000 sockets that never send connect: all closed by the deadline, an authenticated client is served meanwhile", { timeout: 60_000 }, async (t) => {
  const gw = await startTestGateway({ ...PRODUCT, handshakeTimeoutMs: 1000 });
  t.after(() => gw.close());
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  const flood = await idleSockets(gw.port, 2000);
  t.after(() => flood.forEach((s) => s.socket.destroy()));
  const health = await client.request("health");
  assert.equal(health.ok, true);
  // Every flood socket gets its close frame from the deadline (or was evicted before).
  const codes = await Promise.all(flood.map((s) => closeCode(s)));
  assert.ok(codes.every((c) => c === 1000 || c === 1013), `close codes ${[...new Set(codes)].join(",")}`);
  assert.equal(gw.server.ctx.registry.preAuth.size, 0);
  assert.equal(gw.server.ctx.registry.ready, 1);
});

test("before hello-ok frames are capped at 64 KiB: a 65 KiB connect gets 1009", { timeout: 10_000 }, async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const c = await TestClient.open(gw.url);
  const nonce = await c.challenge();
  const params = buildConnectParams(nonce, { client: { displayName: "x".repeat(65 * 1024) } });
  c.send({ type: "req", id: "c", method: "connect", params });
  assert.equal((await c.closed).code, 1009);
  // 60 KiB is fine before auth (in fields whose schema bounds allow it: 240 caps of 255
  // characters), and after hello-ok frames up to maxPayload are fine.
  const caps = Array.from({ length: 240 }, (_, i) => `${i}`.padEnd(255, "y"));
  const ok = await connectOk(gw.url, { extra: { caps } });
  assert.ok(JSON.stringify(caps).length > 60 * 1024);
  t.after(() => ok.client.close());
  const big = await ok.client.request("health", { pad: "z".repeat(200 * 1024) });
  assert.ok(big.type === "res");
});

test("a pending socket announcing a frame over maxPayload + 64 KiB is cut at once (an unfinished frame pins at most that)", { timeout: 10_000 }, async (t) => {
  const gw = await startTestGateway({ handshakeTimeoutMs: 60_000 });
  t.after(() => gw.close());
  const ceiling = gw.server.ctx.options.policy.maxPayload + 64 * 1024;
  assert.equal(hardPayloadCeiling(gw.server.ctx.options.policy.maxPayload), ceiling);
  const s = await RawWs.connect(gw.port);
  t.after(() => s.socket.destroy());
  const h = Buffer.alloc(14);
  h[0] = 0x81;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(ceiling + 1), 2);
  h.set(randomBytes(4), 10);
  s.socket.write(h);
  // Long before the (60 s) handshake deadline.
  await s.ended;
  assert.equal(s.texts().length, 1, "only the challenge was ever sent");
});
