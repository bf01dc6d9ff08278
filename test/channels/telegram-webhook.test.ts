/** Telegram webhook mode: updates POSTed to the gateway port, secret checked, reply delivered. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startChannels, TOKEN, until } from "./channels-helpers.js";

test("webhook mode: setWebhook instead of polling; the secret is required; an update reaches the handler", async (t) => {
  const s = await startChannels(t, { dmPolicy: "open", webhookUrl: "https://bot.example/telegram-webhook", webhookSecret: "s3cret-value" });
  const sup = s.api.runner("telegram")!.supervisor!;
  await sup.whenRunning();
  await until(() => s.fake.calls.some((c) => c.method === "setWebhook"), "setWebhook");
  const url = `http://127.0.0.1:${s.gw.port}/telegram-webhook`;
  const update = { update_id: 9001, message: { message_id: 5, date: 1, chat: { id: 31, type: "private" }, from: { id: 31, is_bot: false, first_name: "W" }, text: "via webhook" } };
  const post = (secret?: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(secret ? { "x-telegram-bot-api-secret-token": secret } : {}) }, body: JSON.stringify(update) });
  assert.equal((await post()).status, 401);
  assert.equal((await post("wrong-secret")).status, 401);
  assert.equal(s.handled.length, 0);
  assert.equal((await post("s3cret-value")).status, 200);
  // Telegram retries a webhook it thinks failed: the same update again is deduped.
  assert.equal((await post("s3cret-value")).status, 200);
  const sent = await s.fake.waitSent(1);
  assert.equal(sent[0]!.text, "echo: via webhook");
  assert.equal(s.handled.length, 1);
  assert.ok(!s.fake.calls.some((c) => c.method === "getUpdates"), "no polling in webhook mode");
  const st = s.api.snapshots().telegram![0]!;
  assert.equal(st.mode, "webhook");
});
