/**
 * Telegram through the real grammY client against the fake Bot API: DM → handler → reply,
 * group mention gating, the pairing-code flow.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChannelPairingStore } from "../../src/main/channels/channel-pairing-store.js";
import { startChannels, TOKEN, until, BOT } from "./channels-helpers.js";

test("an allowed DM reaches the handler and its reply is delivered to the chat", async (t) => {
  const { fake, handled } = await startChannels(t, { dmPolicy: "allowlist", allowFrom: ["42"] });
  fake.push(TOKEN, { chatId: 42, fromId: 42, text: "hello" });
  const sent = await fake.waitSent(1);
  assert.equal(sent[0]!.chatId, "42");
  assert.equal(sent[0]!.text, "echo: hello");
  assert.equal(handled.length, 1);
  assert.equal(handled[0]!.sessionKey, "agent:main:main");
  assert.deepEqual(handled[0]!.replyTo, { channel: "telegram", accountId: "default", to: "42" });
  // A sender not on the allowlist is dropped without a reply.
  fake.push(TOKEN, { chatId: 7, fromId: 7, text: "intruder" });
  fake.push(TOKEN, { chatId: 42, fromId: 42, text: "again" });
  await fake.waitSent(2);
  assert.deepEqual(handled.map((m) => m.text), ["hello", "again"]);
  assert.equal(fake.sent.filter((s) => s.chatId === "7").length, 0);
});

test("a long reply is chunked at the Telegram limit (4096)", async (t) => {
  const long = `${"a".repeat(4000)} ${"b".repeat(3000)}`;
  const { fake } = await startChannels(t, { dmPolicy: "open" }, { handler: async () => ({ replyText: long }) });
  fake.push(TOKEN, { chatId: 5, fromId: 5, text: "long please" });
  const sent = await fake.waitSent(2);
  assert.ok(sent.every((s) => s.text.length <= 4096));
  assert.equal(sent.map((s) => s.text).join(" "), long);
});

test("groups: unmentioned messages are dropped under requireMention; a mention or a reply to the bot passes", async (t) => {
  const { fake, handled } = await startChannels(t, { groupPolicy: "allowlist", groups: { "-100": { requireMention: true } } });
  fake.push(TOKEN, { chatId: -100, chatType: "supergroup", fromId: 9, text: "just chatting" });
  fake.push(TOKEN, { chatId: -200, chatType: "supergroup", fromId: 9, text: `@${BOT.username} not an allowed group` });
  fake.push(TOKEN, { chatId: -100, chatType: "supergroup", fromId: 9, text: `hey @${BOT.username} ping` });
  fake.push(TOKEN, { chatId: -100, chatType: "supergroup", fromId: 9, text: "reply", replyToBot: true });
  await fake.waitSent(2);
  assert.deepEqual(handled.map((m) => m.text), [`hey @${BOT.username} ping`, "reply"]);
  assert.equal(handled[0]!.sessionKey, "agent:main:telegram:group:-100");
  assert.ok(fake.sent.every((s) => s.chatId === "-100"));
});

test("pairing: an unknown DM sender gets a code once; after approval their messages reach the handler", async (t) => {
  const { fake, handled, gw } = await startChannels(t, {});
  fake.push(TOKEN, { chatId: 77, fromId: 77, username: "stranger", text: "hi" });
  const [codeMsg] = await fake.waitSent(1);
  const code = /Pairing code: ([A-Z0-9]{8})/.exec(codeMsg!.text)?.[1];
  assert.ok(code, codeMsg!.text);
  fake.push(TOKEN, { chatId: 77, fromId: 77, text: "hi again" });
  // The second message gets no second code and is not handled.
  const store = new ChannelPairingStore(gw.stateDir, "telegram");
  // Confirmed = main has decided on it (the worker confirms only after main answered).
  await until(() => fake.deliveries.size >= 2 && fake.unconfirmed(TOKEN) === 0, "second update decided");
  const pending = await store.list();
  assert.equal(pending.length, 1);
  assert.equal(pending[0]!.meta?.username, "stranger");
  assert.equal(handled.length, 0);
  await store.approve(code);
  assert.deepEqual(await store.approved(), ["77"]);
  fake.push(TOKEN, { chatId: 77, fromId: 77, text: "approved now" });
  await fake.waitSent(2);
  assert.deepEqual(handled.map((m) => m.text), ["approved now"]);
  assert.equal(fake.sent.length, 2);
  await assert.rejects(store.approve(code), /no pending telegram pairing request/);
});

test("CLAWDBOT_SKIP_CHANNELS=1 starts no account; status says why", async (t) => {
  const { startTestGateway } = await import("../helpers/gateway.js");
  const { channelsModule, CHANNELS_MODULE } = await import("../../src/main/channels/channels-module.js");
  const gw = await startTestGateway({
    extra: { modules: [channelsModule({ handler: async () => null, readChannelsConfig: () => ({ telegram: { botToken: TOKEN } }), env: { CLAWDBOT_SKIP_CHANNELS: "1" } })] },
  });
  t.after(() => gw.close());
  const api = gw.instance.module<import("../../src/main/channels/channels-module.js").ChannelsApi>(CHANNELS_MODULE)!;
  assert.equal(api.runner("telegram"), undefined);
  const snap = api.snapshots().telegram![0]!;
  assert.equal(snap.running, false);
  assert.equal(snap.configured, true);
  assert.match(snap.lastError ?? "", /CLAWDBOT_SKIP_CHANNELS/);
});
