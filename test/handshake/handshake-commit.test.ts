/**
 * Group commit in the handshake: a `hello-ok` that hands out pairing state (a device token)
 * is sent only once that state is on disk; a failed write refuses the handshake with
 * UNAVAILABLE (retryable) instead; a socket closed while waiting gets nothing and harms nothing;
 * frames pipelined behind `connect` are answered after `hello-ok`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { TestClient, buildConnectParams, connectClient, connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";

async function withGateway(t: { after: (fn: () => Promise<void>) => void }): Promise<TestGateway> {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  return gw;
}

test("hello-ok of a new device comes after its token is on disk", async (t) => {
  const gw = await withGateway(t);
  const devices = Array.from({ length: 20 }, createDevice);
  const hellos = await Promise.all(devices.map(async (device) => (await connectOk(gw.url, { device })).hello));
  // Read the file the moment the last hello-ok arrived: no flush in between.
  const onDisk = JSON.parse(await readFile(join(gw.stateDir, "devices", "paired.json"), "utf8")) as Record<string, { tokens: { operator: { token: string } } }>;
  devices.forEach((d, i) => assert.equal(onDisk[d.id]?.tokens.operator.token, hellos[i].auth.deviceToken, `device ${i}`));
});

test("a failed pairing write refuses the handshake with UNAVAILABLE (retryable), and a retry succeeds once the disk is back", async (t) => {
  const gw = await withGateway(t);
  const devicesDir = join(gw.stateDir, "devices");
  // A regular file where the directory should be: every write of the pairing state fails.
  await rm(devicesDir, { recursive: true, force: true });
  await writeFile(devicesDir, "not a directory");
  const device = createDevice();
  const { client, res } = await connectClient(gw.url, { device });
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "UNAVAILABLE");
  assert.equal(res.error?.retryable, true);
  assert.deepEqual(await client.closed, { code: 1013, reason: "pairing state could not be saved; retry" });

  await rm(devicesDir);
  await mkdir(devicesDir, { mode: 0o700 });
  // The device is already paired in memory: the retry must still wait for (and get) a durable write.
  const { client: again, hello } = await connectOk(gw.url, { device });
  again.close();
  const onDisk = JSON.parse(await readFile(join(devicesDir, "paired.json"), "utf8")) as Record<string, { tokens: { operator: { token: string } } }>;
  assert.equal(onDisk[device.id]?.tokens.operator.token, hello.auth.deviceToken);
});

test("sockets closed while their pairing is being written get nothing and leave the gateway healthy", async (t) => {
  const gw = await withGateway(t);
  await Promise.all(
    Array.from({ length: 30 }, async () => {
      const c = await TestClient.open(gw.url);
      const nonce = await c.challenge();
      c.send({ type: "req", id: "c", method: "connect", params: buildConnectParams(nonce, { device: createDevice() }) });
      c.terminate();
    }),
  );
  const { client, hello } = await connectOk(gw.url, { device: createDevice() });
  assert.match(hello.auth.deviceToken, /^[0-9a-f]{32}$/);
  const res = await client.request("health");
  assert.equal(res.ok, true);
  client.close();
});

test("requests pipelined behind a new device's connect are answered after hello-ok, in order", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  t.after(() => c.close());
  const nonce = await c.challenge();
  c.send({ type: "req", id: "c", method: "connect", params: buildConnectParams(nonce, { device: createDevice() }) });
  c.send({ type: "req", id: "h1", method: "health" });
  c.send({ type: "req", id: "h2", method: "health" });
  await c.next((f) => f.type === "res" && f.id === "h2");
  const order = c.frames.filter((f) => f.type === "res").map((f) => [f.id, f.ok]);
  assert.deepEqual(order, [
    ["c", true],
    ["h1", true],
    ["h2", true],
  ]);
});
