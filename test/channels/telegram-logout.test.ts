/**
 * Telegram `channels.logout` removes the account's `botToken` from the config file (the
 * reference: "Telegram clears the bot token from config"): over the real gateway process the
 * poller stops, the file keeps everything else, and after a restart the account is not
 * configured. Tokens from `tokenFile` / `TELEGRAM_BOT_TOKEN` are reported, their files untouched.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LOCAL_TOKEN, localGatewayEnv, startCliGateway } from "../helpers/cli.js";
import { connectOk } from "../helpers/client.js";
import { tempDir } from "../helpers/temp-dir.js";
import { FakeTelegram } from "../fakes/fake-telegram.js";
import { clearTelegramBotToken, withoutBotToken } from "../../src/main/channels/telegram-logout.js";
import { BOT, TOKEN, until } from "./channels-helpers.js";

const getUpdates = (tg: FakeTelegram): number => tg.calls.filter((c) => c.method === "getUpdates" && c.token === TOKEN).length;

test("channels.logout telegram over the gateway: token leaves the config file, the poller stops, a restart keeps the account logged out", async (t) => {
  const tg = new FakeTelegram();
  await tg.start();
  tg.addBot(TOKEN, BOT);
  t.after(() => tg.close());
  const env = await localGatewayEnv(t, {});
  const gateway = { mode: "local", auth: { token: LOCAL_TOKEN }, reload: { debounceMs: 50 } };
  await env.writeConfig({ gateway, channels: { telegram: { botToken: TOKEN, apiRoot: tg.apiRoot, dmPolicy: "allowlist", allowFrom: ["42"] } }, agents: { defaults: { timeoutSeconds: 77 } } });
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  await until(() => tg.polling(TOKEN) > 0, "the account's poller");

  const { client } = await connectOk(gw.url, { token: LOCAL_TOKEN });
  t.after(() => client.close());
  const lo = await client.request("channels.logout", { channel: "telegram" });
  assert.equal(lo.ok, true, JSON.stringify(lo));
  assert.deepEqual(lo.payload, { channel: "telegram", accountId: "default", cleared: true, envToken: false, loggedOut: true, tokenSource: "none", wasRunning: true });

  // Persisted before the answer: the token is gone, everything else is as it was.
  const file = JSON.parse(await readFile(env.configPath, "utf8")) as { gateway: unknown; channels: { telegram: Record<string, unknown> }; agents: { defaults: { timeoutSeconds: number } } };
  assert.equal(file.channels.telegram.botToken, undefined);
  assert.deepEqual({ ...file.channels.telegram }, { apiRoot: tg.apiRoot, dmPolicy: "allowlist", allowFrom: ["42"] });
  assert.deepEqual(file.gateway, gateway);
  assert.equal(file.agents.defaults.timeoutSeconds, 77);
  assert.ok(!(await readFile(env.configPath, "utf8")).includes(TOKEN), "no trace of the token in the file");

  // The watcher's reload of the edit leaves the account stopped and unconfigured.
  await gw.waitLine(/config hot-applied/);
  assert.equal(tg.polling(TOKEN), 0, "no poller holds a getUpdates");
  const polls = getUpdates(tg);
  const st = (await client.request("channels.status", {})).payload.channelAccounts.telegram[0];
  assert.equal(st.running, false);
  assert.equal(st.configured, false);
  assert.equal(getUpdates(tg), polls, "no getUpdates after the logout");

  client.close();
  gw.kill("SIGTERM");
  assert.equal((await gw.exited).code, 0);
  const again = await startCliGateway(["--port", "0"], env.env, t);
  const c2 = (await connectOk(again.url, { token: LOCAL_TOKEN })).client;
  t.after(() => c2.close());
  const st2 = (await c2.request("channels.status", {})).payload.channelAccounts.telegram[0];
  assert.equal(st2.configured, false, "still logged out after the restart");
  assert.equal(st2.running, false);
  assert.equal(getUpdates(tg), polls, "the restarted gateway does not poll");
});

test("telegram logout edits: channel-level and account-level tokens, emptied objects removed, other accounts kept", () => {
  const parsed = { gateway: { port: 1 }, channels: { telegram: { botToken: "${TG}", accounts: { default: { botToken: "a" }, work: { botToken: "b", allowFrom: ["1"] } } }, whatsapp: {} } };
  assert.deepEqual(withoutBotToken(parsed, "default"), { gateway: { port: 1 }, channels: { telegram: { accounts: { work: { botToken: "b", allowFrom: ["1"] } } }, whatsapp: {} } });
  assert.deepEqual(withoutBotToken(parsed, "work"), {
    gateway: { port: 1 },
    channels: { telegram: { botToken: "${TG}", accounts: { default: { botToken: "a" }, work: { allowFrom: ["1"] } } }, whatsapp: {} },
  });
  assert.deepEqual(withoutBotToken({ channels: { telegram: { botToken: "x" } } }, "default"), {}, "empty sections go");
  assert.equal(withoutBotToken({ channels: { telegram: { tokenFile: "/x" } } }, "default"), undefined, "nothing to clear");
  assert.equal(parsed.channels.telegram.botToken, "${TG}", "the input is not modified");
});

test("telegram logout with a tokenFile or TELEGRAM_BOT_TOKEN: reported, the token file and the config file stay untouched", async (t) => {
  const dir = tempDir(t);
  const configPath = join(dir, "clawdbot.json");
  const tokenFile = join(dir, "tg.token");
  await writeFile(tokenFile, `${TOKEN}\n`);
  const raw = JSON.stringify({ channels: { telegram: { tokenFile } } });
  await writeFile(configPath, raw);
  const viaFile = await clearTelegramBotToken({ configPath, version: "test", env: {} }, "default");
  assert.deepEqual(viaFile, { cleared: false, envToken: false, loggedOut: false, tokenSource: "tokenFile" });
  assert.equal(await readFile(tokenFile, "utf8"), `${TOKEN}\n`);
  assert.equal(await readFile(configPath, "utf8"), raw);

  await writeFile(configPath, JSON.stringify({ channels: { telegram: { botToken: TOKEN, dmPolicy: "open" } } }));
  const viaEnv = await clearTelegramBotToken({ configPath, version: "test", env: { TELEGRAM_BOT_TOKEN: "999:env" } }, "default");
  assert.deepEqual(viaEnv, { cleared: true, envToken: true, loggedOut: false, tokenSource: "env" });
  const after = JSON.parse(await readFile(configPath, "utf8")) as { channels: { telegram: Record<string, unknown> } };
  assert.deepEqual(after.channels.telegram, { dmPolicy: "open" });

  await writeFile(configPath, "{ channels: { telegram: { botToken: ");
  await assert.rejects(clearTelegramBotToken({ configPath, version: "test", env: {} }, "default"), /config invalid; fix it before logging out/);
});
