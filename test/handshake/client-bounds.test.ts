/**
 * Bounds on what clients store: oversized names, versions, ids and lists are refused at the
 * edge with INVALID_REQUEST and nothing reaches the pairing files or presence; `hello-ok`
 * stays small however clients describe themselves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { TestClient, buildConnectParams, connectClient, connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";

const HUGE = "x".repeat(300 * 1024);

async function withGateway(t: { after: (fn: () => Promise<void>) => void }): Promise<TestGateway> {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  return gw;
}

async function fileOrEmpty(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

test("a 300 KiB displayName in connect is refused and nothing is persisted", { timeout: 20_000 }, async (t) => {
  const gw = await withGateway(t);
  const device = createDevice();
  const client = await TestClient.open(gw.url);
  const nonce = await client.challenge();
  const outcome = await Promise.race([
    client.request("connect", buildConnectParams(nonce, { device, client: { displayName: HUGE } })),
    client.closed,
  ]);
  t.after(() => client.close());
  // INVALID_REQUEST from the schema; a pre-auth frame cap below 300 KiB may close first (1009).
  if (!("code" in outcome && outcome.code === 1009)) {
    assert.ok("type" in outcome, `closed without an answer: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.error?.code, "INVALID_REQUEST");
    assert.match(outcome.error?.message ?? "", /\/client\/displayName: must NOT have more than 256 characters/);
    assert.equal((await client.closed).code, 1008);
  }
  await gw.instance.devices.flush();
  assert.equal(gw.instance.devices.getPaired(device.id), undefined);
  const files = (await fileOrEmpty(join(gw.stateDir, "devices", "paired.json"))) + (await fileOrEmpty(join(gw.stateDir, "devices", "pending.json")));
  assert.ok(!files.includes(device.id) && !files.includes("xxxxxxxx"), "nothing of it on disk");
});

test("connect fields just over their bound are refused with INVALID_REQUEST; at the bound they are accepted", { timeout: 20_000 }, async (t) => {
  const gw = await withGateway(t);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["displayName", { client: { displayName: "d".repeat(257) } }, /\/client\/displayName/],
    ["platform", { client: { platform: "p".repeat(257) } }, /\/client\/platform/],
    ["version", { client: { version: "1".repeat(129) } }, /\/client\/version/],
    ["modelIdentifier", { client: { modelIdentifier: "m".repeat(257) } }, /\/client\/modelIdentifier/],
    ["deviceFamily", { client: { deviceFamily: "f".repeat(257) } }, /\/client\/deviceFamily/],
    ["instanceId", { client: { instanceId: "i".repeat(129) } }, /\/client\/instanceId/],
    ["caps", { extra: { caps: Array.from({ length: 257 }, (_, i) => `c${i}`) } }, /\/caps: must NOT have more than 256 items/],
    ["commands entry", { extra: { commands: ["c".repeat(257)] } }, /\/commands\/0/],
  ];
  for (const [name, o, where] of cases) {
    const { client, res } = await connectClient(gw.url, { ...o, client: { ...(o.client as object) } });
    client.close();
    assert.equal(res.error?.code, "INVALID_REQUEST", name);
    assert.match(res.error?.message ?? "", where, name);
  }
  const atBound = await connectOk(gw.url, {
    device: createDevice(),
    client: { displayName: "d".repeat(256), platform: "p".repeat(256), version: "1".repeat(128), modelIdentifier: "m".repeat(256) },
    extra: { caps: Array.from({ length: 256 }, (_, i) => `c${i}`) },
  });
  atBound.client.close();
});

test("node.pair.request with a 300 KiB displayName is refused and nothing is persisted", { timeout: 20_000 }, async (t) => {
  const gw = await withGateway(t);
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  const res = await client.request("node.pair.request", { nodeId: "node-1", displayName: HUGE });
  assert.equal(res.error?.code, "INVALID_REQUEST");
  assert.match(res.error?.message ?? "", /\/displayName: must NOT have more than 256 characters/);
  const tooMany = await client.request("node.pair.request", { nodeId: "node-1", commands: Array.from({ length: 300 }, (_, i) => `cmd.${i}`) });
  assert.equal(tooMany.error?.code, "INVALID_REQUEST");
  const list = await client.request("node.pair.list");
  assert.deepEqual(list.payload.pending, []);
  assert.ok(!(await fileOrEmpty(join(gw.stateDir, "nodes", "pending.json"))).includes("node-1"));
});

test("hello-ok stays bounded: presence from connect and system-event cannot carry huge strings", { timeout: 20_000 }, async (t) => {
  const gw = await withGateway(t);
  const open: TestClient[] = [];
  t.after(() => open.forEach((c) => c.close()));
  for (let i = 0; i < 10; i++) {
    const { client } = await connectOk(gw.url, {
      device: createDevice(),
      client: { mode: "test", displayName: `${i}`.padEnd(256, "n"), platform: "p".repeat(256), modelIdentifier: "m".repeat(256), deviceFamily: "f".repeat(256) },
    });
    open.push(client);
    const ev = await client.request("system-event", { text: "hello", host: HUGE, instanceId: `i${i}` });
    assert.equal(ev.error?.code, "INVALID_REQUEST");
    assert.match(ev.error?.message ?? "", /\/host: must NOT have more than 256 characters/);
  }
  const { client, res } = await connectClient(gw.url);
  client.close();
  assert.equal(res.ok, true);
  const size = JSON.stringify(res.payload).length;
  assert.ok(size < 64 * 1024, `hello-ok is ${size} bytes`);
});
