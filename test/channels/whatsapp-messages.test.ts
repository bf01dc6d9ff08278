/**
 * WhatsApp account worker, messages: a real supervised worker thread, the production
 * connection/parsing/chunking code, and a fake at the `makeWASocket` boundary only.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GatewayError } from "../../src/shared/errors.js";
import { startHarness, SELF_JID } from "../fakes/fake-baileys-harness.js";

test("inbound upsert reaches onInbound: DM text, group caption with @-mention; own, status and history messages are dropped", async (t) => {
  const h = await startHarness(t, { linked: true });
  await h.fake.sockets(1);
  assert.equal(h.fake.of("created")[0]?.registeredMe, SELF_JID, "the worker loaded the linked creds");
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected, "connected");
  h.fake.send({
    op: "emit",
    event: "messages.upsert",
    data: {
      type: "notify",
      messages: [
        { key: { remoteJid: "status@broadcast", id: "S1", participant: "15552223333@s.whatsapp.net" }, message: { conversation: "status" } },
        { key: { remoteJid: "15552223333@s.whatsapp.net", id: "M0", fromMe: true }, message: { conversation: "mine" } },
        { key: { remoteJid: "15552223333@s.whatsapp.net", id: "M1" }, message: { conversation: "hello there" }, messageTimestamp: 1_700_000_000, pushName: "Ann" },
        {
          key: { remoteJid: "120363000000000001@g.us", id: "G1", participant: "15554445555@s.whatsapp.net" },
          message: { imageMessage: { caption: "look @15550001111", contextInfo: { mentionedJid: ["15550001111@s.whatsapp.net"] } } },
        },
        { key: { remoteJid: "120363000000000001@g.us", id: "G2", participant: "15554445555@s.whatsapp.net" }, message: { extendedTextMessage: { text: "no mention" } } },
      ],
    },
  });
  h.fake.send({ op: "emit", event: "messages.upsert", data: { type: "append", messages: [{ key: { remoteJid: "15552223333@s.whatsapp.net", id: "H1" }, message: { conversation: "history" } }] } });
  await h.waitInbound(3);
  assert.deepEqual(
    h.inbound.map((m) => [m.platformMessageId, m.from, m.chatId, m.isGroup, m.text, m.mentionedSelf]),
    [
      ["M1", "+15552223333", "15552223333@s.whatsapp.net", false, "hello there", false],
      ["G1", "+15554445555", "120363000000000001@g.us", true, "look @15550001111", true],
      ["G2", "+15554445555", "120363000000000001@g.us", true, "no mention", false],
    ],
  );
  assert.equal(h.inbound[0]?.ts, 1_700_000_000_000);
  assert.equal(h.inbound[0]?.pushName, "Ann");
  assert.ok((h.account.snapshot().lastMessageAt ?? 0) > 0 || (await h.account.status()).lastMessageAt !== null);
});

test("send goes through the live socket, split into chunks of at most 4000 chars; an idempotency key sends once", async (t) => {
  const h = await startHarness(t, { linked: true });
  await h.fake.sockets(1);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected, "connected");
  const para = "word ".repeat(700).trim(); // 3499 chars
  const text = `${para}\n\n${para}\n\n${para}`;
  const res = await h.account.send({ to: "+1 (555) 222-3333", text });
  // The fake reports from the worker thread over a BroadcastChannel: wait for its records.
  await h.fake.waitFor(() => h.fake.of("send").length >= res.chunks, "every chunk to reach the fake socket");
  const sends = h.fake.of("send");
  assert.equal(res.chunks, sends.length);
  assert.ok(sends.length >= 3, `split into ${sends.length} chunks`);
  for (const s of sends) {
    assert.equal(s.jid, "15552223333@s.whatsapp.net");
    assert.ok(s.text.length <= 4000, `chunk of ${s.text.length} chars`);
  }
  assert.equal(sends.map((s) => s.text).join("\n\n"), text, "chunks reassemble to the reply");
  assert.deepEqual(res.messageIds, sends.map((s) => s.id));

  const a = h.account.send({ to: "15552223333", text: "once", idempotencyKey: "k1" });
  const b = h.account.send({ to: "15552223333", text: "once", idempotencyKey: "k1" });
  const [ra, rb] = await Promise.all([a, b]);
  const rc = await h.account.send({ to: "15552223333", text: "once", idempotencyKey: "k1" });
  assert.equal(ra.messageId, rb.messageId);
  assert.equal(rc.messageId, ra.messageId);
  await h.fake.waitFor(() => h.fake.of("send").some((s) => s.text === "once"), "the send to reach the fake socket");
  assert.equal(h.fake.of("send").filter((s) => s.text === "once").length, 1);

  await assert.rejects(h.account.send({ to: "not a number", text: "x" }), (err: unknown) => err instanceof GatewayError && err.protocolCode === "INVALID_REQUEST");
});

test("send without a live socket fails NOT_LINKED with the reference remedy text", async (t) => {
  const h = await startHarness(t);
  const st = await h.account.status();
  assert.equal(st.linked, false);
  assert.equal(st.lastError, "not linked");
  await assert.rejects(h.account.send({ to: "+15552223333", text: "hi" }), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_WHATSAPP_NOT_LINKED");
    assert.equal(err.protocolCode, "NOT_LINKED");
    assert.equal(
      err.message,
      "No active WhatsApp Web listener (account: default). Start the gateway, then link WhatsApp with: clawdbot channels login --channel whatsapp --account default.",
    );
    return true;
  });
  assert.equal(h.fake.of("created").length, 0, "an unlinked account opens no socket by itself");
});

test("a send that fails on the socket is retryable under the same key", async (t) => {
  const h = await startHarness(t, { linked: true });
  await h.fake.sockets(1);
  h.fake.send({ op: "open", user: { id: SELF_JID } });
  await h.waitState((s) => s.connected, "connected");
  h.fake.send({ op: "failSends", count: 1 });
  await h.fake.waitFor(() => h.fake.of("ack").length > 0, "failSends ack");
  await assert.rejects(h.account.send({ to: "15552223333", text: "retry me", idempotencyKey: "r1" }), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_WHATSAPP_SEND_FAILED");
    assert.equal(err.retryable, true);
    return true;
  });
  const ok = await h.account.send({ to: "15552223333", text: "retry me", idempotencyKey: "r1" });
  await h.fake.waitFor(() => h.fake.of("send").some((s) => s.text === "retry me"), "the send to reach the fake socket");
  assert.equal(h.fake.of("send").filter((s) => s.text === "retry me").length, 1);
  assert.equal(ok.messageId, h.fake.of("send")[0]?.id);
});
