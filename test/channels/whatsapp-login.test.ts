/**
 * WhatsApp QR login (`web.login.start` / `web.login.wait`) and logout through the real
 * supervised worker; the fake socket plays the phone (QR, pairing, 515, open).
 */
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { GatewayError } from "../../src/shared/errors.js";
import { startHarness, SELF_JID } from "../fakes/fake-baileys-harness.js";

const QR = "2@fakeRef,fakeNoise,fakeIdentity,fakeAdv";

test("login: start returns the QR as a PNG data URL (reused within the session); pairing + 515 + open → wait reports linked; sends work", async (t) => {
  const h = await startHarness(t);
  const qrEvents: string[] = [];
  h.account.onQr((q) => void qrEvents.push(q.qr));
  const started = h.account.loginStart({});
  await h.fake.sockets(1);
  h.fake.send({ op: "emit", event: "connection.update", data: { qr: QR } });
  const res = await started;
  assert.equal(res.message, "Scan this QR in WhatsApp → Linked Devices.");
  assert.match(res.qrDataUrl ?? "", /^data:image\/png;base64,/);
  const png = Buffer.from((res.qrDataUrl ?? "").split(",")[1] ?? "", "base64");
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG image");
  assert.equal(res.qr, QR);

  const again = await h.account.loginStart({});
  assert.equal(again.qrDataUrl, res.qrDataUrl, "same QR within the 3-minute session");
  assert.equal(h.fake.of("created").length, 1, "no second socket for a repeated start");

  const waiting = h.account.loginWait({ timeoutMs: 30_000 });
  h.fake.send({ op: "pair", me: SELF_JID });
  h.fake.send({ op: "close", status: 515, message: "Stream Errored (restart required)", wrapped: true });
  await h.fake.sockets(2);
  assert.equal(h.fake.of("created")[1]?.registeredMe, SELF_JID, "the restarted socket logs in with the paired creds");
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  assert.deepEqual(await waiting, { connected: true, message: "✅ Linked! WhatsApp is ready." });
  assert.ok(qrEvents.includes(QR), "QR event reached main");
  const creds = JSON.parse(await readFile(join(h.authDir, "creds.json"), "utf8")) as { me?: { id?: string } };
  assert.equal(creds.me?.id, SELF_JID);
  assert.equal((await stat(h.authDir)).mode & 0o777, 0o700, "auth dir is owner-only");
  assert.equal((await stat(join(h.authDir, "creds.json"))).mode & 0o777, 0o600, "creds.json is owner-only");
  assert.equal((await stat(join(h.authDir, "..", ".."))).mode & 0o777, 0o700, "credentials/ created owner-only");
  const st = await h.account.status();
  assert.equal(st.linked, true);
  assert.equal(st.connected, true);
  assert.deepEqual(st.self, { jid: "15550001111@s.whatsapp.net", e164: "+15550001111" });
  await h.account.send({ to: "+15552223333", text: "linked" });
  // The fake reports from the worker thread over a BroadcastChannel: wait for its record.
  await h.fake.waitFor(() => h.fake.of("send").length >= 1, "the send to reach the fake socket");
  assert.equal(h.fake.of("send").length, 1);

  const already = await h.account.loginStart({});
  assert.equal(already.qrDataUrl, undefined);
  assert.match(already.message, /^WhatsApp is already linked \(\+15550001111\)/);
});

test("login wait: no session, still waiting, expired session", async (t) => {
  const h = await startHarness(t, { worker: { loginTtlMs: 8000 } });
  assert.deepEqual(await h.account.loginWait({ timeoutMs: 1000 }), { connected: false, message: "No active WhatsApp login in progress." });
  const started = h.account.loginStart({ timeoutMs: 5000 });
  await h.fake.sockets(1);
  h.fake.send({ op: "emit", event: "connection.update", data: { qr: QR } });
  await started;
  const still = await h.account.loginWait({ timeoutMs: 1000 });
  assert.equal(still.connected, false);
  assert.match(still.message, /^Still waiting for the QR scan/);
  const expired = await h.account.loginWait({ timeoutMs: 30_000 });
  assert.equal(expired.connected, false);
  assert.match(expired.message, /^The login QR expired/);
});

test("login fails when the pairing socket closes before linking (no reconnect loop minting QRs)", async (t) => {
  const h = await startHarness(t);
  const started = h.account.loginStart({});
  await h.fake.sockets(1);
  h.fake.send({ op: "emit", event: "connection.update", data: { qr: QR } });
  await started;
  const waiting = h.account.loginWait({ timeoutMs: 30_000 });
  h.fake.send({ op: "close", status: 408, message: "QR refs attempts ended" });
  const out = await waiting;
  assert.equal(out.connected, false);
  assert.match(out.message, /^WhatsApp login failed: QR refs attempts ended/);
  assert.equal(h.fake.of("created").length, 1);
});

test("logout: tells the server, deletes the auth dir, and sends fail NOT_LINKED afterwards", async (t) => {
  const h = await startHarness(t, { linked: true });
  await h.fake.sockets(1);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected, "connected");
  const out = await h.account.logout();
  assert.deepEqual(out, { cleared: true, loggedOut: true });
  assert.equal(h.fake.of("logout").length, 1);
  await assert.rejects(stat(h.authDir), { code: "ENOENT" });
  const st = await h.account.status();
  assert.equal(st.linked, false);
  assert.equal(st.connected, false);
  await assert.rejects(h.account.send({ to: "+15552223333", text: "x" }), (err: unknown) => err instanceof GatewayError && err.protocolCode === "NOT_LINKED");
});
