/**
 * `device.token.rotate` never grants more than the device was approved for, nor more than
 * the caller holds (no pairing-scope → admin escalation), over real sockets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { connectClient, connectOk } from "../helpers/client.js";
import { createDevice, type TestDevice } from "../helpers/device.js";

async function withGateway(t: { after: (fn: () => Promise<void>) => void }): Promise<TestGateway> {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  return gw;
}

/** Pairs `device` silently (loopback + shared token) with `scopes`; returns its device token. */
async function pair(gw: TestGateway, device: TestDevice, scopes: string[]): Promise<string> {
  const { client, hello } = await connectOk(gw.url, { device, scopes });
  client.close();
  return hello.auth.deviceToken as string;
}

test("a pairing-only device cannot rotate its own token to operator.admin", async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  const token = await pair(gw, device, ["operator.pairing"]);
  // Authenticated by its device token alone: it holds operator.pairing, nothing else.
  const { client } = await connectOk(gw.url, { device, token, scopes: ["operator.pairing"] });
  t.after(() => client.close());
  const res = await client.request("device.token.rotate", { deviceId: device.id, role: "operator", scopes: ["operator.admin"] });
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "INVALID_REQUEST");
  assert.match(res.error?.message ?? "", /device not approved for scope: operator\.admin/);
  assert.equal(res.payload?.token, undefined);
  const paired = gw.instance.devices.getPaired(device.id);
  assert.deepEqual(paired?.scopes, ["operator.pairing"]);
  assert.equal(paired?.tokens?.operator?.token, token, "the old token is unchanged");
  // And the old token still cannot be used as an admin token.
  const admin = await connectClient(gw.url, { device, token, scopes: ["operator.admin"] });
  admin.client.close();
  assert.equal(admin.res.ok, false);
});

test("a pairing-only caller cannot mint a token with more than it holds for another device", async (t) => {
  const gw = await withGateway(t);
  const adminDevice = createDevice();
  await pair(gw, adminDevice, ["operator.admin"]);
  const pairer = createDevice();
  const pairerToken = await pair(gw, pairer, ["operator.pairing"]);
  const { client } = await connectOk(gw.url, { device: pairer, token: pairerToken, scopes: ["operator.pairing"] });
  t.after(() => client.close());
  for (const params of [
    { deviceId: adminDevice.id, role: "operator" },
    { deviceId: adminDevice.id, role: "operator", scopes: ["operator.admin"] },
  ]) {
    const res = await client.request("device.token.rotate", params);
    assert.equal(res.ok, false, JSON.stringify(params));
    assert.equal(res.error?.message, "missing scope: operator.admin");
  }
  // Within what it holds, the rotation works (and narrows the device's approved scopes).
  const ok = await client.request("device.token.rotate", { deviceId: adminDevice.id, role: "operator", scopes: ["operator.pairing"] });
  assert.equal(ok.ok, true, JSON.stringify(ok.error));
  assert.deepEqual(ok.payload.scopes, ["operator.pairing"]);
  assert.deepEqual(gw.instance.devices.getPaired(adminDevice.id)?.scopes, ["operator.pairing"]);
});

test("even an admin caller cannot widen a device past its approved scopes; narrowing works", async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  await pair(gw, device, ["operator.read"]);
  const { client } = await connectOk(gw.url); // shared token: operator.admin
  t.after(() => client.close());
  const wide = await client.request("device.token.rotate", { deviceId: device.id, role: "operator", scopes: ["operator.read", "operator.write"] });
  assert.equal(wide.ok, false);
  assert.equal(wide.error?.message, "device not approved for scope: operator.write");
  const same = await client.request("device.token.rotate", { deviceId: device.id, role: "operator", scopes: ["operator.read"] });
  assert.equal(same.ok, true, JSON.stringify(same.error));
  const none = await client.request("device.token.rotate", { deviceId: device.id, role: "operator", scopes: [] });
  assert.equal(none.ok, true, JSON.stringify(none.error));
  assert.deepEqual(none.payload.scopes, []);
});
