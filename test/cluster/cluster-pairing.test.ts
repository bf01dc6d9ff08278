/**
 * Pairing shared through the cluster's KV bucket, with three real gateway processes: a
 * device paired on one gateway connects to another with its device token, a token revoked
 * on one is refused on a third within 1 s (and its open session there is closed), node
 * pairing approved on one gateway verifies on another, and the state survives a broker
 * restart.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectClient, connectOk, type TestClient } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { createDevice, type TestDevice } from "../helpers/device.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { operatorOn, pollUntil, waitSynced } from "../helpers/cluster-state.js";

interface TokenView {
  role: string;
  revokedAtMs?: number;
}

/** The paired device's token summaries as `device.pair.list` on `op` shows them, or undefined. */
async function tokensOf(op: TestClient, deviceId: string): Promise<TokenView[] | undefined> {
  const res = await op.request("device.pair.list", {});
  assert.equal(res.ok, true, JSON.stringify(res.error));
  const paired = (res.payload as { paired: { deviceId: string; tokens?: TokenView[] }[] }).paired;
  return paired.find((d) => d.deviceId === deviceId)?.tokens;
}

/** Connects `device` with its device token only (no shared secret). */
function connectWithDeviceToken(url: string, device: TestDevice, deviceToken: string) {
  return connectClient(url, { device, token: deviceToken, scopes: ["operator.read"] });
}

test("a device paired on gw-a connects to gw-b with its token; revoked on gw-b, it is refused on gw-c within 1 s", async (t) => {
  const nats = await startNatsServer(t);
  const [a, b, c] = await startClusterGateways(t, nats, 3);
  const ops = await Promise.all([a, b, c].map((gw) => operatorOn(t, gw.url)));
  await Promise.all(ops.map((op) => waitSynced(op, "pairing")));
  const [, opB, opC] = ops as [TestClient, TestClient, TestClient];

  // Silent (loopback) pairing on gw-a: hello-ok carries the new device token.
  const device = createDevice();
  const first = await connectOk(a.url, { device, token: CLUSTER_TOKEN, scopes: ["operator.read"] });
  first.client.close();
  const deviceToken = (first.hello as { auth?: { deviceToken?: string } }).auth?.deviceToken;
  assert.equal(typeof deviceToken, "string");
  const pairedAt = Date.now();

  // hello-ok went out after the bucket acknowledged: gw-b knows the device at once or within the watch delay.
  await pollUntil(() => tokensOf(opB, device.id));
  const seenOnB = Date.now() - pairedAt;
  const onB = await connectWithDeviceToken(b.url, device, deviceToken as string);
  t.after(() => onB.client.close());
  assert.equal(onB.res.ok, true, JSON.stringify(onB.res.error));

  // A session on gw-c admitted by the token, then the token revoked on gw-b.
  const onC = await connectWithDeviceToken(c.url, device, deviceToken as string);
  assert.equal(onC.res.ok, true, JSON.stringify(onC.res.error));
  const revoked = await opB.request("device.token.revoke", { deviceId: device.id, role: "operator" });
  assert.equal(revoked.ok, true, JSON.stringify(revoked.error));
  const revokedAt = Date.now();
  const closed = await onC.client.closed;
  const sessionClosedMs = Date.now() - revokedAt;
  assert.equal(closed.code, 4001);
  await pollUntil(async () => ((await tokensOf(opC, device.id))?.find((x) => x.role === "operator")?.revokedAtMs !== undefined ? true : undefined));
  const again = await connectWithDeviceToken(c.url, device, deviceToken as string);
  const refusedMs = Date.now() - revokedAt;
  t.after(() => again.client.close());
  assert.equal(again.res.ok, false);
  assert.ok(refusedMs < 1000, `revocation took ${refusedMs} ms to reach gw-c`);
  t.diagnostic(`paired→visible on gw-b ${seenOnB} ms; revoke→session closed on gw-c ${sessionClosedMs} ms; revoke→refused on gw-c ${refusedMs} ms`);
});

test("node pairing approved on gw-a verifies on gw-b; pairing survives a broker restart", async (t) => {
  const nats = await startNatsServer(t);
  const [a, b] = await startClusterGateways(t, nats, 2);
  const [opA, opB] = (await Promise.all([a, b].map((gw) => operatorOn(t, gw.url)))) as [TestClient, TestClient];
  await Promise.all([opA, opB].map((op) => waitSynced(op, "pairing")));

  const req = await opA.request("node.pair.request", { nodeId: "node-1", displayName: "Node 1" });
  assert.equal(req.ok, true, JSON.stringify(req.error));
  const requestId = (req.payload as { request: { requestId: string } }).request.requestId;
  // The request made on gw-a is approved on gw-b.
  await pollUntil(async () => {
    const list = await opB.request("node.pair.list", {});
    return (list.payload as { pending: { requestId: string }[] }).pending.some((p) => p.requestId === requestId) ? true : undefined;
  });
  const approved = await opB.request("node.pair.approve", { requestId });
  assert.equal(approved.ok, true, JSON.stringify(approved.error));
  const token = (approved.payload as { node: { token: string } }).node.token;
  const verify = async (op: TestClient) => ((await op.request("node.pair.verify", { nodeId: "node-1", token })).payload as { ok: boolean }).ok;
  await pollUntil(async () => ((await verify(opA)) ? true : undefined), 1000);

  const device = createDevice();
  const paired = await connectOk(a.url, { device, token: CLUSTER_TOKEN, scopes: ["operator.read"] });
  paired.client.close();
  const deviceToken = (paired.hello as { auth: { deviceToken: string } }).auth.deviceToken;

  await nats.restart();
  await Promise.all([opA, opB].map((op) => waitSynced(op, "pairing")));
  // A new pairing after the restart is shared too, and the old ones are intact.
  const later = createDevice();
  const laterHello = await pollUntil(async () => {
    const r = await connectClient(b.url, { device: later, token: CLUSTER_TOKEN, scopes: ["operator.read"] });
    r.client.close();
    return r.res.ok ? (r.res.payload as { auth: { deviceToken: string } }) : undefined;
  }, 15_000, 100);
  await pollUntil(() => tokensOf(opA, later.id));
  const onA = await connectWithDeviceToken(a.url, later, laterHello.auth.deviceToken);
  t.after(() => onA.client.close());
  assert.equal(onA.res.ok, true, JSON.stringify(onA.res.error));
  const onB = await connectWithDeviceToken(b.url, device, deviceToken);
  t.after(() => onB.client.close());
  assert.equal(onB.res.ok, true, JSON.stringify(onB.res.error));
  assert.equal(await verify(opB), true);
});
