/** Device identity at connect (§2.4), device pairing (§2.7) and device tokens, over real sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { connectClient, connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";

async function withGateway(t: { after: (fn: () => Promise<void>) => void }, o: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(o);
  t.after(() => gw.close());
  return gw;
}

/** A gateway that trusts 127.0.0.1 as a proxy, so X-Forwarded-For makes a peer remote. */
const REMOTE = { headers: { "X-Forwarded-For": "203.0.113.7" } };

test("v2 signature with the challenge nonce is accepted and a device token is issued", async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  const { client, hello } = await connectOk(gw.url, { device });
  client.close();
  assert.match(hello.auth.deviceToken, /^[0-9a-f]{32}$/);
  assert.equal(hello.auth.role, "operator");
  assert.deepEqual(hello.auth.scopes, ["operator.admin"]);
  const paired = gw.instance.devices.getPaired(device.id);
  assert.equal(paired?.publicKey, device.publicKey);
});

test("v1 signature (no nonce) is accepted from a local peer", async (t) => {
  const gw = await withGateway(t);
  const { client } = await connectOk(gw.url, { device: createDevice(), v1: true });
  client.close();
});

test("device failures: bad signature, expired, wrong nonce, id mismatch", async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  const other = createDevice();

  const expired = await connectClient(gw.url, { device, signedAt: Date.now() - 11 * 60_000 });
  assert.equal(expired.res.error?.message, "device signature expired");
  assert.deepEqual(await expired.client.closed, { code: 1008, reason: "device signature expired" });

  const sig = await connectClient(gw.url, { device: { ...device, privateKey: other.privateKey } });
  assert.equal(sig.res.error?.message, "device signature invalid");

  const mismatch = await connectClient(gw.url, { device: { ...device, id: other.id } });
  assert.equal(mismatch.res.error?.message, "device identity mismatch");
});

test("wrong nonce → device nonce mismatch; remote peer without nonce → device nonce required", async (t) => {
  const gw = await withGateway(t, { trustedProxies: ["127.0.0.1"] });
  const device = createDevice();
  const { TestClient, buildConnectParams } = await import("../helpers/client.js");
  const c = await TestClient.open(gw.url);
  await c.challenge();
  const res = await c.request("connect", buildConnectParams("not-the-nonce", { device }));
  assert.equal(res.error?.message, "device nonce mismatch");

  const remote = await connectClient(gw.url, { device, v1: true, ...REMOTE });
  assert.equal(remote.res.error?.message, "device nonce required");
});

test("remote device: pairing required with requestId, pairing-scoped operators see the request, approval lets it in", async (t) => {
  const gw = await withGateway(t, { trustedProxies: ["127.0.0.1"] });
  const admin = await connectOk(gw.url);
  const readOnly = await connectOk(gw.url, { scopes: ["operator.read"] });
  t.after(() => {
    admin.client.close();
    readOnly.client.close();
  });
  const device = createDevice();
  const first = await connectClient(gw.url, { device, ...REMOTE });
  assert.equal(first.res.error?.code, "NOT_PAIRED");
  assert.equal(first.res.error?.message, "pairing required");
  const requestId = first.res.error?.details.requestId as string;
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(await first.client.closed, { code: 1008, reason: "pairing required" });

  const requested = await admin.client.event("device.pair.requested");
  assert.equal(requested.payload.requestId, requestId);
  assert.equal(requested.payload.deviceId, device.id);
  assert.equal(typeof requested.seq, "number");

  // A second attempt reuses the same pending request.
  const again = await connectClient(gw.url, { device, ...REMOTE });
  assert.equal(again.res.error?.details.requestId, requestId);

  await gw.instance.devices.flush();
  const pending = JSON.parse(await readFile(join(gw.stateDir, "devices", "pending.json"), "utf8"));
  assert.equal(pending[requestId]?.deviceId, device.id, "pending request persisted");

  gw.instance.devices.approve(requestId);
  const resolved = await admin.client.event("device.pair.resolved");
  assert.equal(resolved.payload.decision, "approved");
  const ok = await connectOk(gw.url, { device, ...REMOTE });
  assert.match(ok.hello.auth.deviceToken, /^[0-9a-f]{32}$/);
  ok.client.close();

  await gw.instance.devices.flush();
  const st = await stat(join(gw.stateDir, "devices", "paired.json"));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(readOnly.client.frames.filter((f) => f.event?.startsWith("device.pair.")).length, 0, "read-only client saw pairing events");
});

test("device token reconnect, scope upgrade from loopback, revoked token refused", async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  const first = await connectOk(gw.url, { device, scopes: ["operator.read"] });
  first.client.close();
  const deviceToken = first.hello.auth.deviceToken as string;

  // Only the device token (no shared token).
  const again = await connectOk(gw.url, { device, token: deviceToken, scopes: ["operator.read"] });
  again.client.close();

  // Scope upgrade from loopback is approved silently and recorded.
  const up = await connectOk(gw.url, { device, scopes: ["operator.admin"] });
  up.client.close();
  assert.ok(gw.instance.devices.getPaired(device.id)?.scopes?.includes("operator.admin"));

  gw.instance.devices.revokeToken(device.id, "operator");
  const revoked = await connectClient(gw.url, { device, token: deviceToken, scopes: ["operator.read"] });
  assert.equal(revoked.res.ok, false);
  assert.match(revoked.res.error!.message, /^unauthorized/);
});
