/**
 * Legacy node pairing (`node.pair.*`, `node.rename`) and device pairing administration
 * (`device.pair.*`, `device.token.*`) — §3.11, §2.7, §4.2 — plus the kill -9 durability
 * of the node pairing store.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { connectClient, connectOk, type TestClient } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { connectNode, nodeConnectOptions } from "../helpers/node.js";
import { NodePairingStore } from "../../src/shared/store/node-pairing-store.js";
import { DevicePairingStore } from "../../src/shared/store/device-pairing-store.js";
import type { PairedNode } from "../../src/shared/store/node-pairing-types.js";
import { mulberry32 } from "../helpers/seeded-random.js";
import { PairingKillLedger, assertDiskMatchesLedger, runChurnUntilKilled } from "../helpers/pairing-kill-loop.js";
import { tempDir } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = join(ROOT, "test", "fixtures", "node-pairing-churn.ts");
const HEX32 = /^[0-9a-f]{32}$/;

interface Audience {
  admin: TestClient;
  pairing: TestClient;
  readOnly: TestClient;
  approvals: TestClient;
  node: TestClient;
}

async function audience(gw: TestGateway, t: { after: (fn: () => void) => void }): Promise<Audience> {
  const admin = (await connectOk(gw.url)).client;
  const pairing = (await connectOk(gw.url, { scopes: ["operator.pairing"] })).client;
  const readOnly = (await connectOk(gw.url, { scopes: ["operator.read"] })).client;
  const approvals = (await connectOk(gw.url, { scopes: ["operator.approvals"] })).client;
  const node = (await connectNode(gw.url, { platform: "linux" })).client;
  t.after(() => [admin, pairing, readOnly, approvals, node].forEach((c) => c.close()));
  return { admin, pairing, readOnly, approvals, node };
}

/**
 * Asserts which clients saw `event` since `marks`: a tick broadcast after it reaches
 * everyone, and per-socket order means anything published before it has arrived too.
 */
async function assertAudience(gw: TestGateway, a: Audience, marks: Map<TestClient, number>, event: string, expected: (keyof Audience)[]): Promise<void> {
  const ts = Date.now() + Math.random();
  gw.server.ctx.bus.broadcast("tick", { ts });
  for (const [name, c] of Object.entries(a) as [keyof Audience, TestClient][]) {
    await c.next((f) => f.event === "tick" && f.payload.ts === ts, 5000, marks.get(c));
    const got = c.frames.slice(marks.get(c)).some((f) => f.event === event);
    assert.equal(got, expected.includes(name), `${name} ${expected.includes(name) ? "should" : "should not"} receive ${event}`);
  }
}

function mark(a: Audience): Map<TestClient, number> {
  return new Map(Object.values(a).map((c: TestClient) => [c, c.frames.length]));
}

test("node.pair.*: request/list/approve/reject/verify/rename; events reach pairing-scoped operators only; files 0600", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const a = await audience(gw, t);

  let m = mark(a);
  const req = await a.pairing.request("node.pair.request", { nodeId: "ipad-1", displayName: "iPad", platform: "iOS 18", caps: ["canvas"], commands: ["canvas.eval"], remoteIp: "10.0.0.4" });
  assert.equal(req.ok, true, JSON.stringify(req.error));
  assert.equal(req.payload.status, "pending");
  assert.equal(req.payload.created, true);
  const request = req.payload.request;
  assert.deepEqual(Object.keys(request), ["requestId", "nodeId", "displayName", "platform", "caps", "commands", "remoteIp", "isRepair", "ts"]);
  assert.equal(request.isRepair, false);
  assert.equal("token" in request, false, "no token is ever returned by request");
  await assertAudience(gw, a, m, "node.pair.requested", ["admin", "pairing"]);
  const ev = a.pairing.frames.find((f) => f.event === "node.pair.requested")!;
  assert.deepEqual(ev.payload, request);

  m = mark(a);
  const again = await a.admin.request("node.pair.request", { nodeId: "ipad-1", displayName: "other" });
  assert.deepEqual(again.payload, { status: "pending", request, created: false }, "one pending request per node, reused unchanged");
  await assertAudience(gw, a, m, "node.pair.requested", []);

  const listed = await a.pairing.request("node.pair.list", {});
  assert.deepEqual(listed.payload, { pending: [request], paired: [] });
  const denied = await a.readOnly.request("node.pair.list", {});
  assert.equal(denied.error?.message, "missing scope: operator.pairing");

  m = mark(a);
  const approved = await a.pairing.request("node.pair.approve", { requestId: request.requestId });
  assert.equal(approved.payload.requestId, request.requestId);
  const node = approved.payload.node as PairedNode;
  assert.match(node.token, HEX32);
  assert.equal(node.displayName, "iPad");
  assert.deepEqual(node.commands, ["canvas.eval"]);
  assert.equal(node.createdAtMs, node.approvedAtMs);
  await assertAudience(gw, a, m, "node.pair.resolved", ["admin", "pairing"]);
  const resolved = a.admin.frames.find((f) => f.event === "node.pair.resolved")!;
  assert.deepEqual({ ...resolved.payload, ts: 0 }, { requestId: request.requestId, nodeId: "ipad-1", decision: "approved", ts: 0 });

  // On disk before the ack.
  const paired = JSON.parse(readFileSync(join(gw.stateDir, "nodes", "paired.json"), "utf8"));
  assert.equal(paired["ipad-1"].token, node.token);
  assert.deepEqual(JSON.parse(readFileSync(join(gw.stateDir, "nodes", "pending.json"), "utf8")), {});
  for (const f of ["paired.json", "pending.json"]) assert.equal(statSync(join(gw.stateDir, "nodes", f)).mode & 0o777, 0o600, f);

  assert.deepEqual((await a.admin.request("node.pair.verify", { nodeId: "ipad-1", token: node.token })).payload, { ok: true, node });
  assert.deepEqual((await a.admin.request("node.pair.verify", { nodeId: "ipad-1", token: "0".repeat(32) })).payload, { ok: false });
  assert.deepEqual((await a.admin.request("node.pair.verify", { nodeId: "nobody", token: node.token })).payload, { ok: false });

  // Repair: a new request for a paired node is flagged, approval re-issues the token.
  m = mark(a);
  const repair = await a.admin.request("node.pair.request", { nodeId: "ipad-1" });
  assert.equal(repair.payload.request.isRepair, true);
  const reapproved = await a.admin.request("node.pair.approve", { requestId: repair.payload.request.requestId });
  assert.notEqual(reapproved.payload.node.token, node.token);
  assert.equal(reapproved.payload.node.displayName, "iPad", "kept from the previous record");
  assert.equal(reapproved.payload.node.createdAtMs, node.createdAtMs);
  await assertAudience(gw, a, m, "node.pair.resolved", ["admin", "pairing"]);

  m = mark(a);
  const other = await a.admin.request("node.pair.request", { nodeId: "phone-2" });
  const rejected = await a.pairing.request("node.pair.reject", { requestId: other.payload.request.requestId });
  assert.deepEqual(rejected.payload, { requestId: other.payload.request.requestId, nodeId: "phone-2" });
  await assertAudience(gw, a, m, "node.pair.resolved", ["admin", "pairing"]);
  assert.equal(a.pairing.frames.slice(m.get(a.pairing)).find((f) => f.event === "node.pair.resolved")?.payload.decision, "rejected");
  assert.deepEqual((await a.admin.request("node.pair.approve", { requestId: other.payload.request.requestId })).error, {
    code: "INVALID_REQUEST",
    message: "unknown requestId",
    details: { requestId: other.payload.request.requestId },
  });
  assert.equal((await a.admin.request("node.pair.reject", { requestId: "nope" })).error?.message, "unknown requestId");

  // node.rename works on the legacy store (PAIRING scope).
  assert.deepEqual((await a.pairing.request("node.rename", { nodeId: "ipad-1", displayName: "  Kitchen iPad " })).payload, { nodeId: "ipad-1", displayName: "Kitchen iPad" });
  assert.equal((await a.pairing.request("node.rename", { nodeId: "ipad-1", displayName: "  " })).error?.message, "displayName required");
  assert.equal((await a.pairing.request("node.rename", { nodeId: "ghost", displayName: "x" })).error?.message, "unknown nodeId");
  assert.equal(JSON.parse(readFileSync(join(gw.stateDir, "nodes", "paired.json"), "utf8"))["ipad-1"].displayName, "Kitchen iPad");
});

test("node pairing store: pending requests expire after 5 minutes; state reloads from disk", async (t) => {
  const dir = tempDir(t, "clawgate-nodepair-");
  const clock = { now: 1_800_000_000_000 };
  const store = await NodePairingStore.open({ stateDir: dir, now: () => clock.now });
  const r1 = store.request({ nodeId: "a" });
  clock.now += 299_000;
  const r2 = store.request({ nodeId: "b" });
  assert.equal(store.listPending().length, 2);
  clock.now += 2_000;
  assert.deepEqual(store.listPending().map((p) => p.nodeId), ["b"], "a is older than 5 minutes");
  assert.throws(() => store.approve(r1.request.requestId), /unknown requestId/);
  const { node } = store.approve(r2.request.requestId);
  assert.equal(store.touchConnected("b", 123), true);
  assert.equal(store.touchConnected("never", 123), false);
  await store.close();

  const reopened = await NodePairingStore.open({ stateDir: dir });
  t.after(() => reopened.close());
  assert.deepEqual(reopened.listPending(), []);
  assert.deepEqual(reopened.listPaired(), [{ ...node, lastConnectedAtMs: 123 }], "lazy metadata is flushed on close");
  assert.deepEqual(reopened.verify("b", node.token), { ok: true, node: { ...node, lastConnectedAtMs: 123 } });
});

test("device pairing over RPC: a remote device's request reaches pairing-scoped operators only; approve/reject; list hides token secrets", async (t) => {
  // The loopback peer is a trusted proxy, so X-Forwarded-For makes the client remote.
  const gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
  t.after(() => gw.close());
  const a = await audience(gw, t);
  const remote = (ip: string) => ({ headers: { "x-forwarded-for": ip } });

  let m = mark(a);
  const dev = createDevice();
  const first = await connectClient(gw.url, { ...nodeConnectOptions({ device: dev, platform: "iOS 18" }), ...remote("203.0.113.9") });
  t.after(() => first.client.close());
  assert.equal(first.res.error?.code, "NOT_PAIRED");
  assert.equal(first.res.error?.message, "pairing required");
  const requestId = first.res.error?.details.requestId as string;
  await assertAudience(gw, a, m, "device.pair.requested", ["admin", "pairing"]);
  const requested = a.pairing.frames.find((f) => f.event === "device.pair.requested")!;
  assert.equal(requested.payload.requestId, requestId);
  assert.equal(requested.payload.deviceId, dev.id);
  assert.equal(requested.payload.role, "node");
  assert.equal(requested.payload.remoteIp, "203.0.113.9");
  assert.equal(requested.payload.silent, false);

  const list = await a.pairing.request("device.pair.list", {});
  assert.deepEqual(list.payload.pending.map((p: { requestId: string }) => p.requestId), [requestId]);
  for (const d of list.payload.paired as { tokens?: Record<string, unknown>[] }[]) {
    for (const tok of d.tokens ?? []) assert.equal("token" in tok, false, "token secrets never listed");
  }
  assert.equal((await a.readOnly.request("device.pair.list", {})).error?.message, "missing scope: operator.pairing");

  m = mark(a);
  const approved = await a.pairing.request("device.pair.approve", { requestId });
  assert.equal(approved.ok, true, JSON.stringify(approved.error));
  assert.equal(approved.payload.device.deviceId, dev.id);
  assert.deepEqual(approved.payload.device.roles, ["node"]);
  assert.deepEqual(approved.payload.device.tokens.map((x: { role: string }) => x.role), ["node"]);
  assert.equal("token" in approved.payload.device.tokens[0], false);
  await assertAudience(gw, a, m, "device.pair.resolved", ["admin", "pairing"]);
  const resolved = a.pairing.frames.slice(m.get(a.pairing)).find((f) => f.event === "device.pair.resolved")!;
  assert.deepEqual({ ...resolved.payload, ts: 0 }, { requestId, deviceId: dev.id, decision: "approved", ts: 0 });
  const paired = JSON.parse(readFileSync(join(gw.stateDir, "devices", "paired.json"), "utf8"));
  assert.ok(paired[dev.id], "on disk before the ack");

  const second = await connectClient(gw.url, { ...nodeConnectOptions({ device: dev, platform: "iOS 18" }), ...remote("203.0.113.9") });
  t.after(() => second.client.close());
  assert.equal(second.res.ok, true, JSON.stringify(second.res.error));
  assert.match(second.res.payload.auth.deviceToken, HEX32);
  // An approved remote node shows up as paired and connected.
  const nodes = (await a.admin.request("node.list", {})).payload.nodes as { nodeId: string; paired: boolean; connected: boolean; remoteIp: string }[];
  assert.deepEqual(nodes.find((n) => n.nodeId === dev.id), { ...nodes.find((n) => n.nodeId === dev.id)!, paired: true, connected: true, remoteIp: "203.0.113.9" });

  m = mark(a);
  const dev2 = createDevice();
  const other = await connectClient(gw.url, { device: dev2, ...remote("198.51.100.7") });
  t.after(() => other.client.close());
  const rid2 = other.res.error?.details.requestId as string;
  const rejected = await a.admin.request("device.pair.reject", { requestId: rid2 });
  assert.deepEqual(rejected.payload, { requestId: rid2, deviceId: dev2.id });
  await assertAudience(gw, a, m, "device.pair.resolved", ["admin", "pairing"]);
  assert.deepEqual((await a.admin.request("device.pair.approve", { requestId: rid2 })).error, { code: "INVALID_REQUEST", message: "unknown requestId", details: { requestId: rid2 } });
});

test("device.token.rotate / revoke take effect on the very next handshake (no cached auth)", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client: op } = await connectOk(gw.url);
  t.after(() => op.close());
  const dev = createDevice();
  const first = await connectNode(gw.url, { device: dev, platform: "linux" });
  first.client.close();
  const token1 = first.hello.auth.deviceToken as string;
  assert.match(token1, HEX32);
  assert.equal(first.hello.auth.role, "node");

  // The device token alone (no shared token) authenticates, as the reference client prefers it.
  const viaToken = (token: string) => connectClient(gw.url, nodeConnectOptions({ device: dev, platform: "linux", token }));
  const ok1 = await viaToken(token1);
  assert.equal(ok1.res.ok, true, JSON.stringify(ok1.res.error));
  ok1.client.close();

  const rotated = await op.request("device.token.rotate", { deviceId: dev.id, role: "node" });
  assert.equal(rotated.ok, true, JSON.stringify(rotated.error));
  assert.deepEqual(Object.keys(rotated.payload), ["deviceId", "role", "token", "scopes", "rotatedAtMs"]);
  const token2 = rotated.payload.token as string;
  assert.match(token2, HEX32);
  assert.notEqual(token2, token1);
  const stale = await viaToken(token1);
  assert.equal(stale.res.ok, false, "the old token fails immediately");
  assert.match(stale.res.error!.message, /^unauthorized/);
  assert.equal((await stale.client.closed).code, 1008);
  const fresh = await viaToken(token2);
  assert.equal(fresh.res.ok, true, JSON.stringify(fresh.res.error));
  fresh.client.close();

  const revoked = await op.request("device.token.revoke", { deviceId: dev.id, role: "node" });
  assert.deepEqual(Object.keys(revoked.payload), ["deviceId", "role", "revokedAtMs"]);
  const after = await viaToken(token2);
  assert.equal(after.res.ok, false, "a revoked token fails immediately");
  assert.match(after.res.error!.message, /^unauthorized/);

  // Rotation with scopes replaces the paired scopes — narrowing only: a rotation never grants
  // more than the device was approved for (widening needs a new pairing approval).
  const opDev = createDevice();
  (await connectOk(gw.url, { device: opDev, scopes: ["operator.write", "operator.read"] })).client.close();
  const scoped = await op.request("device.token.rotate", { deviceId: opDev.id, role: "operator", scopes: ["operator.read"] });
  assert.deepEqual(scoped.payload.scopes, ["operator.read"]);
  const pairedScopes = (await op.request("device.pair.list", {})).payload.paired.find((d: { deviceId: string }) => d.deviceId === opDev.id).scopes;
  assert.deepEqual(pairedScopes, ["operator.read"]);
  const widened = await op.request("device.token.rotate", { deviceId: opDev.id, role: "operator", scopes: ["operator.write", "operator.read"] });
  assert.equal(widened.error?.message, "device not approved for scope: operator.write");
  const unknown = await op.request("device.token.rotate", { deviceId: opDev.id, role: "node" });
  assert.deepEqual(unknown.error, { code: "INVALID_REQUEST", message: "unknown deviceId/role", details: { deviceId: opDev.id, role: "node" } });
  assert.equal((await op.request("device.token.revoke", { deviceId: "nobody", role: "operator" })).error?.message, "unknown deviceId/role");
  const file = JSON.parse(readFileSync(join(gw.stateDir, "devices", "paired.json"), "utf8"));
  assert.equal(file[dev.id].tokens.node.token, token2);
  assert.equal(typeof file[dev.id].tokens.node.revokedAtMs, "number", "revocation is on disk before the ack");
});

test("device-token logins do not rewrite paired.json each time: lastUsedAtMs is written lazily (or by flush)", async (t) => {
  const dir = tempDir(t, "clawgate-lazy-");
  const store = await DevicePairingStore.open({ stateDir: dir, lazyPersistMs: 60_000 });
  t.after(() => store.close());
  const { request } = store.requestPairing({ deviceId: "d1", publicKey: "pk", role: "node", scopes: [], silent: true });
  const token = store.approve(request.requestId).device.tokens?.node?.token ?? "";
  await store.flush();
  const writes = store.writeCount;
  for (let i = 0; i < 100; i++) assert.deepEqual(store.verifyDeviceToken("d1", "node", token, []), { ok: true });
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(store.writeCount, writes, "100 logins, no write yet");
  await store.flush();
  assert.equal(store.writeCount, writes + 1, "one write on flush");
  const onDisk = JSON.parse(readFileSync(join(dir, "devices", "paired.json"), "utf8"));
  assert.equal(typeof onDisk.d1.tokens.node.lastUsedAtMs, "number");
});

/** Small seeded PRNG so a failing kill schedule can be replayed (NODE_PAIRING_KILL_SEED). */
test("node pairing store: kill -9 at random moments during approvals never leaves torn, stale or inconsistent files", async (t) => {
  const dir = tempDir(t, "clawgate-nodepair-kill-");
  const seed = Number(process.env.NODE_PAIRING_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed}`);
  const rand = mulberry32(seed);
  const ledger = new PairingKillLedger();

  for (let iter = 0; iter < 20; iter++) {
    await runChurnUntilKilled({ fixture: FIXTURE, dir, rand, idKey: "nodeId", ledger });

    // 1. Both files parse as complete objects and are 0600.
    const files: Record<"paired" | "pending", Record<string, { nodeId: string; token?: string }>> = { paired: {}, pending: {} };
    for (const name of ["paired", "pending"] as const) {
      const p = join(dir, "nodes", `${name}.json`);
      if (!existsSync(p)) continue;
      assert.equal(statSync(p).mode & 0o777, 0o600, `iteration ${iter}: ${name}.json mode`);
      files[name] = JSON.parse(readFileSync(p, "utf8"));
    }
    // 2. What was acknowledged is there; pending.json is never newer than paired.json.
    assertDiskMatchesLedger(
      ledger,
      {
        pairedTokens: new Map(Object.entries(files.paired).map(([id, n]) => [id, n.token])),
        pendingIds: new Set(Object.values(files.pending).map((p) => p.nodeId)),
      },
      iter,
    );
    // 3. The store loads cleanly and sweeps the dead child's tmp files.
    const warnings: string[] = [];
    const store = await NodePairingStore.open({ stateDir: dir, onWarning: (msg) => warnings.push(msg) });
    assert.deepEqual(warnings, [], `iteration ${iter}`);
    assert.equal(store.listPaired().length, Object.keys(files.paired).length);
    await store.close();
    assert.deepEqual(readdirSync(join(dir, "nodes")).filter((n) => n.endsWith(".tmp")), []);
  }
  assert.ok(ledger.acked.size > 0);
  t.diagnostic(`nodes acknowledged: ${ledger.acked.size}`);
});
