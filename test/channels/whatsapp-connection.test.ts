/**
 * WhatsApp account worker, connection life cycle: close codes (515 restart, 440
 * conflict, 401 logged out), reconnect backoff, the idle watchdog, creds backup and
 * restore, and a crashing worker restarted by its supervisor. Real worker thread, fake
 * socket only (short timings via options).
 */
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { startHarness, writeLinkedCreds, SELF_JID } from "../fakes/fake-baileys-harness.js";

async function linkedAndOpen(t: Parameters<typeof startHarness>[0], o: Parameters<typeof startHarness>[1] = {}) {
  const h = await startHarness(t, { linked: true, ...o });
  await h.fake.sockets(1);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected, "connected");
  return h;
}

test("515 (restart required), also wrapped in lastDisconnect.error, restarts once at once; a second 515 goes through backoff", async (t) => {
  const h = await linkedAndOpen(t, { worker: { reconnect: { initialMs: 400, jitter: 0, maxMs: 400 } } });
  h.fake.send({ op: "close", status: 515, message: "Stream Errored (restart required)", wrapped: true });
  await h.fake.sockets(2);
  const st = h.account.snapshot();
  assert.equal(st.reconnectAttempts, 0, "the 515 restart is not a failed attempt");
  assert.equal(st.lastDisconnect?.status, 515);
  h.fake.send({ op: "close", status: 515, wrapped: true });
  const backing = await h.waitState((s) => s.reconnectAttempts === 1, "second 515 scheduled with backoff");
  assert.ok(backing.nextReconnectAt !== null, "waits for the backoff timer");
  await h.fake.sockets(3);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  const open = await h.waitState((s) => s.connected, "connected again");
  assert.equal(open.reconnectAttempts, 0);
});

test("440 (conflict): reconnecting stops with a relink hint; creds stay", async (t) => {
  const h = await linkedAndOpen(t);
  h.fake.send({ op: "close", status: 440, message: "Stream Errored (conflict)" });
  const st = await h.waitState((s) => s.stopped, "stopped");
  assert.match(st.lastError ?? "", /conflict.*relink/);
  assert.equal(st.connected, false);
  assert.equal(st.linked, true);
  // Backoff would be 50 ms: 10x that without a new socket proves no reconnect was scheduled.
  await sleep(500);
  assert.equal(h.fake.of("created").length, 1);
  await stat(join(h.authDir, "creds.json"));
});

test("401 (logged out): creds are deleted, the account is unlinked and stays down", async (t) => {
  const h = await linkedAndOpen(t);
  h.fake.send({ op: "close", status: 401, message: "Connection Failure" });
  const st = await h.waitState((s) => s.stopped && !s.linked, "logged out");
  assert.equal(st.lastDisconnect?.loggedOut, true);
  assert.match(st.lastError ?? "", /logged out.*scan a new QR/);
  const gone = async (): Promise<boolean> => stat(join(h.authDir, "creds.json")).then(() => false, () => true);
  for (let i = 0; i < 100 && !(await gone()); i++) await sleep(20);
  assert.ok(await gone(), "creds.json deleted");
  await sleep(300);
  assert.equal(h.fake.of("created").length, 1, "no reconnect after logout");
});

test("other closes reconnect with exponential backoff, capped, and give up after maxAttempts", async (t) => {
  const policy = { initialMs: 100, factor: 2, jitter: 0, maxMs: 300, maxAttempts: 4 };
  const h = await linkedAndOpen(t, { worker: { reconnect: policy } });
  const closedAt: number[] = [];
  const createdAt: number[] = [];
  for (let attempt = 1; attempt <= 4; attempt++) {
    closedAt.push(Date.now());
    h.fake.send({ op: "close", status: 428, message: "Connection Closed" });
    await h.fake.sockets(attempt + 1);
    createdAt.push(Date.now());
    assert.equal(h.account.snapshot().reconnectAttempts, attempt);
  }
  const expected = [100, 200, 300, 300];
  for (let i = 0; i < expected.length; i++) {
    const gap = (createdAt[i] ?? 0) - (closedAt[i] ?? 0);
    assert.ok(gap >= (expected[i] ?? 0) - 5, `attempt ${i + 1}: waited ${gap} ms, expected ≥ ${expected[i]}`);
    assert.ok(gap < (expected[i] ?? 0) + 5000, `attempt ${i + 1}: waited ${gap} ms, far above ${expected[i]}`);
  }
  h.fake.send({ op: "close", status: 428, message: "Connection Closed" });
  const st = await h.waitState((s) => s.stopped, "gave up");
  assert.match(st.lastError ?? "", /gave up reconnecting after 4 attempts/);
  await sleep(600);
  assert.equal(h.fake.of("created").length, 5);
});

test("idle watchdog: a connected socket with no events is ended and replaced", async (t) => {
  const h = await linkedAndOpen(t, { worker: { idleTimeoutMs: 300 } });
  await h.fake.sockets(2);
  assert.ok(h.fake.of("end").some((e) => e.n === 1), "the idle socket was ended");
  const st = h.account.snapshot();
  assert.match(st.lastDisconnect?.error ?? "", /idle watchdog/);
});

test("corrupt creds.json is restored from creds.json.bak; every creds save refreshes the backup", async (t) => {
  let backup = "";
  const h = await startHarness(t, {
    prepare: async (authDir) => {
      backup = await writeLinkedCreds(authDir, SELF_JID, "creds.json.bak");
      await writeFile(join(authDir, "creds.json"), '{"noiseKey": {"private": {"type": "Buff'); // torn write
    },
  });
  await h.fake.sockets(1);
  assert.equal(h.fake.of("created")[0]?.registeredMe, SELF_JID, "the socket got the restored creds");
  assert.equal(await readFile(join(h.authDir, "creds.json"), "utf8"), backup);
  assert.equal((await stat(h.authDir)).mode & 0o777, 0o700, "an existing auth dir is made owner-only");
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected && s.linked, "connected");
  h.fake.send({ op: "pair", me: "15550009999:3@s.whatsapp.net" });
  const saved = async (): Promise<boolean> => (await readFile(join(h.authDir, "creds.json.bak"), "utf8").catch(() => "")).includes("15550009999");
  for (let i = 0; i < 200 && !(await saved()); i++) await sleep(10);
  const creds = await readFile(join(h.authDir, "creds.json"), "utf8");
  assert.ok(creds.includes("15550009999"), "creds saved");
  assert.equal(await readFile(join(h.authDir, "creds.json.bak"), "utf8"), creds, "backup equals the saved creds");
});

test("a crashing worker is restarted by its supervisor, reconnects, and reports its state", async (t) => {
  const h = await linkedAndOpen(t);
  const gen1 = h.account.snapshot().worker.generation;
  h.fake.send({ op: "crash" });
  const down = await h.waitState((s) => s.worker.state !== "running", "worker died");
  assert.equal(down.connected, false, "a dead worker reports no socket");
  await h.waitState((s) => s.worker.state === "running" && s.worker.generation > gen1, "worker restarted");
  await h.fake.sockets(2);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  const st = await h.waitState((s) => s.connected, "connected after restart");
  assert.equal(st.worker.restarts, 1);
  const sent = await h.account.send({ to: "+15552223333", text: "after restart" });
  assert.equal(sent.chunks, 1);
});
