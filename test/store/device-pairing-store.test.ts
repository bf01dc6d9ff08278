import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DevicePairingStore } from "../../src/shared/store/device-pairing-store.js";
import { pairingStatus, toPairedDeviceView } from "../../src/shared/store/device-pairing-types.js";
import type { DevicePairEvent, DevicePairingStoreOptions, PairedDevice, PairingRequestInput } from "../../src/shared/store/device-pairing-types.js";
import { GatewayError } from "../../src/shared/errors.js";
import { mulberry32 } from "../helpers/seeded-random.js";
import { PairingKillLedger, assertDiskMatchesLedger, runChurnUntilKilled } from "../helpers/pairing-kill-loop.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = join(ROOT, "test", "fixtures", "pairing-churn.ts");
const HEX32 = /^[0-9a-f]{32}$/;

type Ctx = { after: (fn: () => Promise<void> | void) => void };
type Cleanup = () => Promise<void> | void;
const cleanups = new WeakMap<Ctx, Cleanup[]>();

/** Registers cleanup to run LIFO after the test (t.after hooks run FIFO: a store must close before its dir goes). */
function defer(t: Ctx, fn: Cleanup): void {
  let list = cleanups.get(t);
  if (list === undefined) {
    const fns: Cleanup[] = [];
    list = fns;
    cleanups.set(t, fns);
    t.after(async () => {
      const errors: unknown[] = [];
      for (const f of fns.reverse()) await Promise.resolve().then(f).catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw errors[0];
    });
  }
  list.push(fn);
}

function tempDir(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), "clawgate-pairing-"));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Harness {
  store: DevicePairingStore;
  events: DevicePairEvent[];
  warnings: string[];
  clock: { now: number };
}

async function openStore(t: Ctx, dir: string, extra: Partial<DevicePairingStoreOptions> = {}): Promise<Harness> {
  const events: DevicePairEvent[] = [];
  const warnings: string[] = [];
  const clock = { now: 1_800_000_000_000 };
  const store = await DevicePairingStore.open({
    stateDir: dir,
    now: () => clock.now,
    onEvent: (e) => events.push(e),
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  defer(t, () => store.close());
  return { store, events, warnings, clock };
}

function request(deviceId: string, over: Partial<PairingRequestInput> = {}): PairingRequestInput {
  return { deviceId, publicKey: `pk-${deviceId}`, role: "operator", scopes: ["operator.read"], silent: false, remoteIp: "203.0.113.5", ...over };
}

/** Both files exist only after a first write; whenever they exist they must be 0600 and valid JSON objects. */
function readFiles(dir: string): { paired: Record<string, PairedDevice>; pending: Record<string, { deviceId: string; silent: boolean }> } {
  const out: Record<string, unknown> = { paired: {}, pending: {} };
  for (const name of ["paired", "pending"] as const) {
    const p = join(dir, "devices", `${name}.json`);
    if (!existsSync(p)) continue;
    assert.equal(statSync(p).mode & 0o777, 0o600, `${name}.json mode`);
    const text = readFileSync(p, "utf8");
    assert.ok(text.startsWith("{\n") || text === "{}\n", "pretty JSON");
    const v: unknown = JSON.parse(text);
    assert.ok(typeof v === "object" && v !== null && !Array.isArray(v));
    out[name] = v;
  }
  return out as ReturnType<typeof readFiles>;
}

test("request → approve: pending record, events, paired record, minted token, files 0600 after each step", async (t) => {
  const dir = tempDir(t);
  const { store, events } = await openStore(t, dir);
  const { request: req, created } = store.requestPairing(request("dev1", { displayName: "Phone", platform: "ios", clientId: "clawdbot-ios", clientMode: "ui" }));
  assert.equal(created, true);
  assert.match(req.requestId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(req, {
    requestId: req.requestId,
    deviceId: "dev1",
    publicKey: "pk-dev1",
    displayName: "Phone",
    platform: "ios",
    clientId: "clawdbot-ios",
    clientMode: "ui",
    role: "operator",
    roles: ["operator"],
    scopes: ["operator.read"],
    remoteIp: "203.0.113.5",
    silent: false,
    isRepair: false,
    ts: 1_800_000_000_000,
  });
  assert.deepEqual(events, [{ event: "device.pair.requested", payload: req }]);
  await store.flush();
  assert.deepEqual(readFiles(dir).pending, { [req.requestId]: req });

  const { device } = store.approve(req.requestId);
  assert.equal(device.deviceId, "dev1");
  assert.deepEqual(device.roles, ["operator"]);
  assert.deepEqual(device.scopes, ["operator.read"]);
  assert.equal(device.displayName, "Phone");
  assert.equal(device.createdAtMs, 1_800_000_000_000);
  assert.equal(device.approvedAtMs, 1_800_000_000_000);
  const tok = device.tokens?.operator;
  assert.ok(tok !== undefined);
  assert.match(tok.token, HEX32);
  assert.deepEqual(tok.scopes, ["operator.read"]);
  assert.equal(tok.rotatedAtMs, undefined);
  assert.deepEqual(events[1], { event: "device.pair.resolved", payload: { requestId: req.requestId, deviceId: "dev1", decision: "approved", ts: 1_800_000_000_000 } });
  assert.deepEqual(store.listPending(), []);
  await store.flush();
  const files = readFiles(dir);
  assert.deepEqual(files.pending, {});
  assert.deepEqual(files.paired, { dev1: device });
  assert.throws(() => store.approve(req.requestId), { code: "GW_ERR_PAIRING_UNKNOWN_REQUEST", message: "unknown requestId" });
});

test("pairingStatus: not-paired, role-upgrade, scope-upgrade; approval of an upgrade merges roles and scopes", async (t) => {
  const dir = tempDir(t);
  const { store } = await openStore(t, dir);
  assert.deepEqual(pairingStatus(store.getPaired("d"), "pk-d", "operator", ["operator.read"]), { ok: false, reason: "not-paired" });
  store.approve(store.requestPairing(request("d")).request.requestId);
  assert.deepEqual(pairingStatus(store.getPaired("d"), "pk-d", "operator", ["operator.read"]), { ok: true });
  assert.deepEqual(pairingStatus(store.getPaired("d"), "pk-other", "operator", []), { ok: false, reason: "not-paired" });
  assert.deepEqual(pairingStatus(store.getPaired("d"), "pk-d", "node", []), { ok: false, reason: "role-upgrade" });
  assert.deepEqual(pairingStatus(store.getPaired("d"), "pk-d", "operator", ["operator.admin"]), { ok: false, reason: "scope-upgrade" });

  const up = store.requestPairing(request("d", { scopes: ["operator.admin"] })).request;
  assert.equal(up.isRepair, true);
  const first = store.getPaired("d")?.tokens?.operator;
  const { device } = store.approve(up.requestId);
  assert.deepEqual(device.scopes, ["operator.admin", "operator.read"]);
  assert.notEqual(device.tokens?.operator?.token, first?.token, "approval mints a fresh token");
  assert.equal(device.tokens?.operator?.createdAtMs, first?.createdAtMs);
  assert.equal(typeof device.tokens?.operator?.rotatedAtMs, "number");
  const node = store.approve(store.requestPairing(request("d", { role: "node", scopes: [] })).request.requestId).device;
  assert.deepEqual(node.roles, ["node", "operator"]);
  assert.deepEqual(Object.keys(node.tokens ?? {}).sort(), ["node", "operator"]);
  assert.deepEqual(pairingStatus(node, "pk-d", "node", []), { ok: true });
  const view = toPairedDeviceView(node);
  assert.deepEqual(view.tokens?.map((x) => x.role), ["node", "operator"]);
  assert.ok(!JSON.stringify(view).includes(node.tokens?.operator?.token ?? "?"), "view carries no secrets");
});

test("one pending request per device: reuse keeps the original silent flag (§13.1 #21) and emits nothing new", async (t) => {
  const dir = tempDir(t);
  const { store, events } = await openStore(t, dir);
  const a = store.requestPairing(request("d1", { silent: false }));
  const b = store.requestPairing(request("d1", { silent: true, scopes: ["operator.admin"], remoteIp: "127.0.0.1" }));
  assert.equal(b.created, false);
  assert.equal(b.request.requestId, a.request.requestId);
  assert.equal(b.request.silent, false);
  assert.deepEqual(b.request.scopes, ["operator.read"]);
  assert.equal(events.length, 1);
  assert.equal(store.listPending().length, 1);
  // A silent request is created without a `requested` event (the handshake approves it at once).
  const s = store.requestPairing(request("d2", { silent: true }));
  assert.equal(s.created, true);
  assert.equal(s.request.silent, true);
  assert.equal(events.length, 1);
  store.approve(s.request.requestId);
  assert.equal(events.at(-1)?.event, "device.pair.resolved");
});

test("reject drops the request, emits rejected, leaves paired untouched", async (t) => {
  const dir = tempDir(t);
  const { store, events } = await openStore(t, dir);
  const r = store.requestPairing(request("d1")).request;
  assert.deepEqual(store.reject(r.requestId), { requestId: r.requestId, deviceId: "d1" });
  assert.deepEqual(events.at(-1), { event: "device.pair.resolved", payload: { requestId: r.requestId, deviceId: "d1", decision: "rejected", ts: 1_800_000_000_000 } });
  assert.equal(store.getPaired("d1"), undefined);
  assert.throws(() => store.reject(r.requestId), { code: "GW_ERR_PAIRING_UNKNOWN_REQUEST" });
  await store.flush();
  assert.deepEqual(readFiles(dir).pending, {});
  assert.deepEqual(readFiles(dir).paired, {});
});

test("pending requests expire after 5 minutes: pruned on read, on approve, and by the timer", async (t) => {
  const dir = tempDir(t);
  t.mock.timers.enable({ apis: ["setInterval"] });
  const { store, clock } = await openStore(t, dir, { pruneIntervalMs: 60_000 });
  const a = store.requestPairing(request("d1")).request;
  clock.now += 300_000 - 1;
  assert.equal(store.listPending().length, 1);
  clock.now += 1;
  assert.deepEqual(store.listPending(), []);
  assert.throws(() => store.approve(a.requestId), { code: "GW_ERR_PAIRING_UNKNOWN_REQUEST" });
  // an expired request is not reused: a new one is created (with the new silent flag)
  const b = store.requestPairing(request("d1", { silent: true }));
  assert.equal(b.created, true);
  assert.notEqual(b.request.requestId, a.requestId);

  const c = store.requestPairing(request("d2")).request;
  await store.flush();
  assert.ok(readFiles(dir).pending[c.requestId] !== undefined);
  clock.now += 300_001;
  t.mock.timers.tick(60_000);
  await store.flush();
  assert.deepEqual(readFiles(dir).pending, {}, "the timer pruned and persisted without any read");
});

test("updateMetadata merges scopes and refreshes fields; writes only when something changed", async (t) => {
  const dir = tempDir(t);
  const { store } = await openStore(t, dir);
  assert.equal(store.updateMetadata("nope", { displayName: "x" }), false);
  store.approve(store.requestPairing(request("d1", { scopes: ["operator.read", "operator.admin"] })).request.requestId);
  await store.flush();
  const writes = store.writeCount;
  assert.equal(store.updateMetadata("d1", { remoteIp: "203.0.113.5", role: "operator", scopes: ["operator.read"] }), true);
  await store.flush();
  assert.equal(store.writeCount, writes, "no-op update does not write");
  assert.equal(store.updateMetadata("d1", { displayName: "Laptop", platform: "macos", clientId: "clawdbot-macos", clientMode: "ui", remoteIp: "198.51.100.2", scopes: ["operator.pairing"] }), true);
  await store.flush();
  assert.equal(store.writeCount, writes + 1);
  const d = readFiles(dir).paired.d1;
  assert.ok(d !== undefined);
  assert.equal(d.displayName, "Laptop");
  assert.equal(d.platform, "macos");
  assert.equal(d.clientId, "clawdbot-macos");
  assert.equal(d.clientMode, "ui");
  assert.equal(d.remoteIp, "198.51.100.2");
  assert.deepEqual(d.scopes, ["operator.admin", "operator.pairing", "operator.read"]);
});

test("device tokens: ensure reuses or mints, verify checks everything, rotate/revoke are effective immediately", async (t) => {
  const dir = tempDir(t);
  const { store, clock } = await openStore(t, dir);
  assert.equal(store.ensureDeviceToken("ghost", "operator", []), undefined);
  const approved = store.approve(store.requestPairing(request("d1", { scopes: ["operator.admin", "operator.read"] })).request.requestId).device;
  const t0 = approved.tokens?.operator?.token ?? "";

  // ensure: subset → same token; superset → new token
  assert.equal(store.ensureDeviceToken("d1", "operator", ["operator.read"])?.token, t0);
  assert.equal(store.ensureDeviceToken("d1", "operator", [])?.token, t0);
  const t1 = store.ensureDeviceToken("d1", "operator", ["operator.admin", "operator.read", "operator.approvals"]);
  assert.ok(t1 !== undefined);
  assert.notEqual(t1.token, t0);
  assert.match(t1.token, HEX32);
  assert.deepEqual(t1.scopes, ["operator.admin", "operator.approvals", "operator.read"]);

  // verify
  clock.now += 1000;
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", t1.token, ["operator.read"]), { ok: true });
  assert.equal(store.getPaired("d1")?.tokens?.operator?.lastUsedAtMs, clock.now);
  await store.flush();
  assert.equal(readFiles(dir).paired.d1?.tokens?.operator?.lastUsedAtMs, clock.now, "lastUsedAtMs persisted");
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", t0, []), { ok: false, reason: "token-mismatch" });
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", t1.token.toUpperCase(), []), { ok: false, reason: "token-mismatch" });
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", 42, []), { ok: false, reason: "token-mismatch" });
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", t1.token, ["operator.pairing"]), { ok: false, reason: "scope-mismatch" });
  assert.deepEqual(store.verifyDeviceToken("d1", "node", t1.token, []), { ok: false, reason: "token-missing" });
  assert.deepEqual(store.verifyDeviceToken("d2", "operator", t1.token, []), { ok: false, reason: "unknown-device" });

  // rotate: old token dead at once, new one works; scopes replace the paired scopes
  const r = store.rotateToken("d1", "operator", ["operator.read"]);
  assert.match(r.token, HEX32);
  assert.equal(r.rotatedAtMs, clock.now);
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", t1.token, []), { ok: false, reason: "token-mismatch" });
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", r.token, ["operator.read"]), { ok: true });
  assert.deepEqual(store.getPaired("d1")?.scopes, ["operator.read"]);
  const r2 = store.rotateToken("d1", "operator");
  assert.deepEqual(r2.scopes, ["operator.read"], "rotation without scopes keeps the token's scopes");
  assert.throws(() => store.rotateToken("d1", "node"), { code: "GW_ERR_PAIRING_UNKNOWN_DEVICE", message: "unknown deviceId/role" });
  assert.throws(() => store.rotateToken("ghost", "operator"), { code: "GW_ERR_PAIRING_UNKNOWN_DEVICE" });

  // revoke: effective immediately, idempotent; ensure then mints a fresh one
  clock.now += 1000;
  const rev = store.revokeToken("d1", "operator");
  assert.equal(rev.revokedAtMs, clock.now);
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", r2.token, []), { ok: false, reason: "token-revoked" });
  clock.now += 1000;
  assert.equal(store.revokeToken("d1", "operator").revokedAtMs, rev.revokedAtMs);
  assert.throws(() => store.revokeToken("d1", "node"), { code: "GW_ERR_PAIRING_UNKNOWN_DEVICE" });
  await store.flush();
  assert.equal(typeof readFiles(dir).paired.d1?.tokens?.operator?.revokedAtMs, "number", "revocation persisted");
  const fresh = store.ensureDeviceToken("d1", "operator", []);
  assert.ok(fresh !== undefined);
  assert.notEqual(fresh.token, r2.token);
  assert.equal(fresh.revokedAtMs, undefined);
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", fresh.token, []), { ok: true });
});

test("reads are copies: mutating a returned record does not change the store", async (t) => {
  const dir = tempDir(t);
  const { store } = await openStore(t, dir);
  const { device } = store.approve(store.requestPairing(request("d1")).request.requestId);
  const tok = device.tokens?.operator?.token ?? "";
  const copy = store.getPaired("d1");
  assert.ok(copy?.tokens?.operator !== undefined);
  copy.tokens.operator.revokedAtMs = 1;
  copy.tokens.operator.scopes.push("operator.admin");
  (store.listPaired()[0] as PairedDevice).scopes?.push("operator.admin");
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", tok, ["operator.read"]), { ok: true });
  assert.deepEqual(store.verifyDeviceToken("d1", "operator", tok, ["operator.admin"]), { ok: false, reason: "scope-mismatch" });
  assert.deepEqual(store.getPaired("d1")?.scopes, ["operator.read"]);
});

test("write-behind: a burst of mutations coalesces into few writes and the file holds the final state", async (t) => {
  const dir = tempDir(t);
  const { store } = await openStore(t, dir);
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    ids.push(store.requestPairing(request(`d${i}`)).request.requestId);
  }
  for (const id of ids.slice(0, 150)) store.approve(id);
  for (let i = 0; i < 150; i++) store.rotateToken(`d${i}`, "operator");
  await store.flush();
  assert.equal(store.writeCount, 1, "one synchronous burst, one write");
  const files = readFiles(dir);
  assert.equal(Object.keys(files.paired).length, 150);
  assert.equal(Object.keys(files.pending).length, 50);
  for (let i = 0; i < 150; i++) assert.deepEqual(files.paired[`d${i}`], store.getPaired(`d${i}`));

  // mutations while a write is in flight collapse into one follow-up write
  const before = store.writeCount;
  store.rotateToken("d0", "operator");
  await Promise.resolve();
  await Promise.resolve();
  for (let i = 1; i < 100; i++) store.rotateToken(`d${i}`, "operator");
  await store.flush();
  assert.ok(store.writeCount - before <= 2, `wrote ${store.writeCount - before} times`);
  assert.deepEqual(readFiles(dir).paired.d99, store.getPaired("d99"));
});

test("reload from disk restores everything; tokens keep verifying", async (t) => {
  const dir = tempDir(t);
  const h1 = await openStore(t, dir);
  const dev = h1.store.approve(h1.store.requestPairing(request("d1", { displayName: "A" })).request.requestId).device;
  h1.store.rotateToken("d1", "operator");
  const tok = h1.store.ensureDeviceToken("d1", "operator", [])?.token;
  const pend = h1.store.requestPairing(request("d2")).request;
  await h1.store.close();
  assert.throws(() => h1.store.approve(pend.requestId), { code: "GW_ERR_SERVER_SHUTTING_DOWN" });

  const h2 = await openStore(t, dir);
  assert.deepEqual(h2.store.listPending(), [pend]);
  assert.equal(h2.store.getPaired("d1")?.displayName, "A");
  assert.equal(h2.store.getPaired("d1")?.createdAtMs, dev.createdAtMs);
  assert.deepEqual(h2.store.verifyDeviceToken("d1", "operator", tok, []), { ok: true });
  assert.deepEqual(h2.warnings, []);
  // the pending request survives a restart and can be approved
  assert.equal(h2.store.approve(pend.requestId).device.deviceId, "d2");
});

test("corrupt files are quarantined (kept as .corrupt-<ts>), malformed records dropped, loose modes tightened", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "devices"), { recursive: true });
  writeFileSync(join(dir, "devices", "paired.json"), '{"d1": {"deviceId": "d1", "publicKey"');
  const good = { requestId: "r1", deviceId: "d9", publicKey: "pk", role: "operator", roles: ["operator"], scopes: [], silent: false, isRepair: false, ts: 1_800_000_000_000 };
  writeFileSync(join(dir, "devices", "pending.json"), JSON.stringify({ r1: good, r2: { requestId: "r2" }, r3: "junk", wrongKey: { ...good, requestId: "other" } }));
  chmodSync(join(dir, "devices", "pending.json"), 0o644);
  const { store, warnings } = await openStore(t, dir);
  assert.deepEqual(store.listPaired(), []);
  assert.deepEqual(store.listPending(), [good]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? "", /corrupt .*paired\.json moved to .*paired\.json\.corrupt-\d+; starting empty/);
  assert.match(warnings[1] ?? "", /ignored 3 malformed record\(s\)/);
  const names = readdirSync(join(dir, "devices"));
  assert.ok(names.some((n) => /^paired\.json\.corrupt-\d+$/.test(n)), names.join());
  assert.equal(statSync(join(dir, "devices", "pending.json")).mode & 0o777, 0o600);
  // a paired.json whose top level is not an object is corrupt too
  const dir2 = tempDir(t);
  mkdirSync(join(dir2, "devices"));
  writeFileSync(join(dir2, "devices", "paired.json"), "[]");
  const h2 = await openStore(t, dir2);
  assert.equal(h2.warnings.length, 1);
  assert.equal(existsSync(join(dir2, "devices", "paired.json")), false);
});

test("a listener that throws does not undo the mutation", async (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const store = await DevicePairingStore.open({
    stateDir: dir,
    onEvent: () => {
      throw new Error("broadcast failed");
    },
    onWarning: (m) => warnings.push(m),
  });
  defer(t, () => store.close());
  const r = store.requestPairing(request("d1")).request;
  assert.equal(store.approve(r.requestId).device.deviceId, "d1");
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? "", /device\.pair\.requested listener threw/);
});

test("a failed write is reported, flush rejects, and the state lands once the disk is back", async (t) => {
  const dir = tempDir(t);
  const { store, warnings } = await openStore(t, dir);
  // Block the devices dir with a file so mkdir/rename fail.
  writeFileSync(join(dir, "devices"), "in the way");
  store.requestPairing(request("d1"));
  await assert.rejects(store.flush(), (err: unknown) => err instanceof GatewayError && err.code === "GW_ERR_STORE_WRITE_FAILED");
  assert.match(warnings[0] ?? "", /could not be written; retrying/);
  rmSync(join(dir, "devices"));
  await store.flush();
  assert.equal(store.listPending().length, 1);
  assert.equal(Object.keys(readFiles(dir).pending).length, 1);
});

test("kill -9 at random moments never leaves torn, stale or inconsistent files", async (t) => {
  const dir = tempDir(t);
  const seed = Number(process.env.PAIRING_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed}`);
  const rand = mulberry32(seed);
  const ledger = new PairingKillLedger();
  let sawTmpAfterKill = false;

  for (let iter = 0; iter < 20; iter++) {
    await runChurnUntilKilled({ fixture: FIXTURE, dir, rand, idKey: "deviceId", ledger });

    // 1. Both files parse, are complete objects, 0600.
    const files = readFiles(dir);
    if (readdirSync(join(dir, "devices")).some((n) => n.endsWith(".tmp"))) sawTmpAfterKill = true;
    // 2. What was acknowledged is there; pending.json is never newer than paired.json.
    assertDiskMatchesLedger(
      ledger,
      {
        pairedTokens: new Map(Object.entries(files.paired).map(([id, d]) => [id, d.tokens?.operator?.token])),
        pendingIds: new Set(Object.values(files.pending).map((p) => p.deviceId)),
      },
      iter,
    );

    // 3. The store loads the state cleanly and sweeps the dead child's tmp files.
    const warnings: string[] = [];
    const store = await DevicePairingStore.open({ stateDir: dir, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [], `iteration ${iter}`);
    assert.equal(store.listPaired().length, Object.keys(files.paired).length);
    await store.close();
    assert.deepEqual(readdirSync(join(dir, "devices")).filter((n) => n.endsWith(".tmp")), []);
  }
  assert.ok(ledger.acked.size > 0);
  t.diagnostic(`devices acknowledged: ${ledger.acked.size}; a kill left a tmp file behind: ${sawTmpAfterKill}`);
});
