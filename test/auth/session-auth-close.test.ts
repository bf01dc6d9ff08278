/**
 * A credential change ends the sessions it admitted (close 4001): a new shared token through
 * a real config-file reload closes the sessions admitted by the old one (device-token sessions
 * stay); a revoked or rotated device token closes the sessions it admitted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rename, writeFile } from "node:fs/promises";
import { LOCAL_TOKEN, localGatewayEnv, startCliGateway } from "../helpers/cli.js";
import { connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { startTestGateway } from "../helpers/gateway.js";

test("a reloaded gateway.auth.token closes sessions admitted by the old token with 4001; device-token sessions stay", { timeout: 30_000 }, async (t) => {
  const env = await localGatewayEnv(t, {});
  const config = (token: string): string => JSON.stringify({ gateway: { mode: "local", auth: { token }, reload: { debounceMs: 50 } } });
  await writeFile(env.configPath, config(LOCAL_TOKEN));
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const shared = await connectOk(gw.url, { token: LOCAL_TOKEN });
  const device = createDevice();
  const paired = await connectOk(gw.url, { token: LOCAL_TOKEN, device });
  paired.client.close();
  const deviceToken = paired.hello.auth.deviceToken as string;
  const bound = await connectOk(gw.url, { token: deviceToken, device });
  t.after(() => bound.client.close());

  await writeFile(`${env.configPath}.tmp`, config("rotated-token-abcdef0123456789"));
  await rename(`${env.configPath}.tmp`, env.configPath);
  assert.deepEqual(await shared.client.closed, { code: 4001, reason: "gateway auth changed" });
  const health = await bound.client.request("health");
  assert.equal(health.ok, true, "the device-token session is untouched");
});

test("revoking a device token closes its sessions (4001); rotating closes the others but not the caller", { timeout: 15_000 }, async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const device = createDevice();
  const first = await connectOk(gw.url, { device, scopes: ["operator.pairing"] });
  first.client.close();
  const token = first.hello.auth.deviceToken as string;
  const asDevice = () => connectOk(gw.url, { device, token, scopes: ["operator.pairing"] });
  const a = await asDevice();
  const b = await asDevice();
  const admin = await connectOk(gw.url);
  t.after(() => admin.client.close());

  // b rotates its own token: a (admitted by the old token) is closed, b keeps its session.
  const rotated = await b.client.request("device.token.rotate", { deviceId: device.id, role: "operator" });
  assert.equal(rotated.ok, true, JSON.stringify(rotated.error));
  assert.deepEqual(await a.client.closed, { code: 4001, reason: "device token rotated" });
  assert.equal((await b.client.request("device.pair.list")).ok, true);

  // Revoked by an admin: b is closed too.
  const revoked = await admin.client.request("device.token.revoke", { deviceId: device.id, role: "operator" });
  assert.equal(revoked.ok, true);
  assert.deepEqual(await b.client.closed, { code: 4001, reason: "device token revoked" });
  assert.equal((await admin.client.request("health")).ok, true, "shared-token sessions are not affected");
});
