/**
 * Telegram durability: a worker killed mid-update, one poller per token across restarts and
 * reloads, idempotent `send`, fault isolation of a crashing worker.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectOk } from "../helpers/client.js";
import { FakeTelegram } from "../fakes/fake-telegram.js";
import { startChannels, TOKEN, BOT, until } from "./channels-helpers.js";

test("a worker killed after the update was persisted but before the offset commit: re-delivered, handled once", async (t) => {
  let killed = false;
  const handled: string[] = [];
  const s = await startChannels(t, { dmPolicy: "open" }, {
    handler: async (m) => {
      handled.push(m.text);
      if (!killed) {
        killed = true;
        // Synchronously at hand-off: the worker has not seen main's answer, so it never commits
        // the offset. The reply waits for the replacement worker.
        const sup = s.api.runner("telegram")!.supervisor!;
        sup.terminate("test kill mid-update");
        await until(() => sup.getState().state !== "running", "worker gone");
      }
      return { replyText: `echo: ${m.text}` };
    },
  });
  const id = s.fake.push(TOKEN, { chatId: 11, fromId: 11, text: "once" });
  await s.fake.waitSent(1);
  await until(() => (s.fake.deliveries.get(id) ?? 0) >= 2, "re-delivery after the restart");
  s.fake.push(TOKEN, { chatId: 11, fromId: 11, text: "next" });
  await s.fake.waitSent(2);
  assert.deepEqual(handled, ["once", "next"]);
  assert.deepEqual(s.fake.sent.map((m) => m.text), ["echo: once", "echo: next"]);
  assert.ok(s.api.runner("telegram")!.snapshot().reconnectAttempts >= 1);
});

test("at most one poller per token across worker restarts and config reloads", async (t) => {
  const s = await startChannels(t, { dmPolicy: "open" });
  // Each stopping worker's final offset commit lingers: a successor started early would overlap.
  s.fake.shortPollMs = 2500;
  const runner = () => s.api.runner("telegram")!;
  await until(() => s.fake.polling(TOKEN) === 1, "first poller");
  let sent = 0;
  // Each worker handles a message, so it confirms an offset on its way out (held 2.5 s).
  const roundTrip = async (): Promise<void> => {
    s.fake.push(TOKEN, { chatId: 3, fromId: 3, text: `m${sent}` });
    await s.fake.waitSent(++sent);
  };
  await roundTrip();
  const polls0 = s.fake.longPolls;
  runner().supervisor!.terminate("test restart");
  await until(() => s.fake.longPolls > polls0, "the restarted worker polls");
  await roundTrip();
  for (let i = 0; i < 2; i++) {
    const prev = runner();
    const polls = s.fake.longPolls;
    s.config.telegram.allowFrom = [`${i}`]; // changes the account's fingerprint → restart
    await s.gw.instance.reload(s.gw.server.ctx.options, [{ type: "restart-channel", channel: "telegram" }]);
    assert.notEqual(runner(), prev, "the changed account was restarted");
    await until(() => s.fake.longPolls > polls, "the new worker polls");
    await roundTrip();
  }
  // A reload that does not touch the account keeps its worker.
  const before = runner();
  await s.gw.instance.reload(s.gw.server.ctx.options, [{ type: "restart-channel", channel: "telegram" }]);
  assert.equal(runner(), before);
  await roundTrip();
  assert.equal(s.fake.conflicts, 0, "no 409 conflict: never two getUpdates at once");
  assert.equal(s.fake.maxConcurrentPollers, 1);
});

test("send: the same idempotency key delivers once (in flight, after completion, after a gateway restart)", async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-send-"));
  t.after(() => rm(stateDir, { recursive: true, force: true }));
  const fake = new FakeTelegram();
  await fake.start();
  fake.addBot(TOKEN, BOT);
  t.after(() => fake.close());

  const call = async (url: string, params: Record<string, unknown>) => {
    const { client } = await connectOk(url);
    try {
      return await client.request("send", params, 10_000);
    } finally {
      client.close();
    }
  };
  const params = { channel: "telegram", to: "55", message: "hello once", idempotencyKey: "k-1" };
  {
    const s = await startChannels(t, {}, { stateDir, fake });
    await s.api.runner("telegram")!.supervisor!.whenRunning();
    const [a, b] = await Promise.all([call(s.gw.url, params), call(s.gw.url, params)]);
    assert.equal(a.ok, true, JSON.stringify(a));
    assert.deepEqual(a.payload, b.payload);
    const c = await call(s.gw.url, params);
    assert.deepEqual(c.payload, a.payload);
    assert.equal(a.payload.runId, "k-1");
    assert.equal(a.payload.chatId, "55");
    await s.gw.close();
  }
  const s2 = await startChannels(t, {}, { stateDir, fake });
  await s2.api.runner("telegram")!.supervisor!.whenRunning();
  const d = await call(s2.gw.url, params);
  assert.equal(d.ok, true);
  assert.equal(fake.sent.length, 1, "delivered exactly once");
  assert.equal(d.payload.messageId, String(fake.sent[0]!.messageId));
  // A new key sends anew; an unknown channel is refused.
  const e = await call(s2.gw.url, { ...params, idempotencyKey: "k-2" });
  assert.equal(e.ok, true);
  assert.equal(fake.sent.length, 2);
  const f = await call(s2.gw.url, { ...params, channel: "pigeon", idempotencyKey: "k-3" });
  assert.equal(f.ok, false);
  assert.match(f.error!.message, /unsupported channel: pigeon/);
});

test("a crashing channel worker is restarted while health keeps answering; status shows it", async (t) => {
  const s = await startChannels(t, { dmPolicy: "open" });
  const sup = s.api.runner("telegram")!.supervisor!;
  await sup.whenRunning();
  const { client } = await connectOk(s.gw.url);
  t.after(() => client.close());
  const gen = sup.getState().generation;
  // getUpdates answering 409 makes grammY throw out of bot.start(): the worker dies.
  s.fake.failNext("getUpdates", 409);
  s.fake.failNext("getUpdates", 409);
  const started = Date.now();
  let healthCalls = 0;
  while (sup.getState().generation < gen + 2 && Date.now() - started < 30_000) {
    const h = await client.request("health", {});
    assert.equal(h.ok, true);
    healthCalls++;
  }
  assert.ok(sup.getState().generation >= gen + 2, "restarted twice");
  assert.ok(healthCalls > 0);
  await sup.whenRunning();
  s.fake.push(TOKEN, { chatId: 8, fromId: 8, text: "after crash" });
  await s.fake.waitSent(1);
  const st = await client.request("channels.status", { probe: true });
  assert.equal(st.ok, true, JSON.stringify(st));
  const acct = st.payload.channelAccounts.telegram[0];
  assert.equal(acct.running, true);
  assert.ok(acct.reconnectAttempts >= 2);
  assert.equal(acct.probe.ok, true);
  assert.equal(acct.probe.bot.username, BOT.username);
  assert.equal(acct.tokenSource, "config");
  const h = await client.request("health", { probe: true });
  assert.equal(h.payload.channels.telegram.accounts.default.connected, true);
  const lo = await client.request("channels.logout", { channel: "telegram" });
  assert.equal(lo.ok, true);
  assert.equal(s.fake.polling(TOKEN), 0);
});
