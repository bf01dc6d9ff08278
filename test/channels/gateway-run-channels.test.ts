/**
 * `clawdbot gateway run` (the real process) with a Telegram account against the fake Bot API
 * and an agent against the fake OpenAI model: an allowed DM starts an agent run whose reply
 * is delivered to the chat (chunked at 4096), the session records where it came from, and a
 * `channels.telegram` edit is hot-applied to that account. CLAWDBOT_SKIP_CHANNELS=1 starts no
 * channel at all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LOCAL_TOKEN, localGatewayEnv, startCliGateway } from "../helpers/cli.js";
import { connectOk } from "../helpers/client.js";
import type { FakeProvider } from "../fakes/fake-http.js";
import { providersFor } from "../agent/helpers/provider-config.js";
import { TOKEN, startChannelFakes } from "./channels-helpers.js";

const fakes = startChannelFakes;

function gatewayConfig(home: string, apiRoot: string, openai: FakeProvider, telegram: Record<string, unknown>): Record<string, unknown> {
  return {
    channels: { telegram: { botToken: TOKEN, apiRoot, ...telegram } },
    agents: { defaults: { model: "oa/gpt-a", workspace: join(home, "ws") } },
    models: providersFor({ openai }),
  };
}

test("gateway run: an allowed Telegram DM runs the agent and its reply reaches the chat; reload restarts the account with the new policy", async (t) => {
  const { tg, openai } = await fakes(t);
  const env = await localGatewayEnv(t, {});
  const base = { gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, reload: { debounceMs: 50 } } };
  await env.writeConfig({ ...base, ...gatewayConfig(env.home, tg.apiRoot, openai, { dmPolicy: "allowlist", allowFrom: ["42"] }) });
  const gw = await startCliGateway(["--port", "0"], env.env, t);

  openai.script("gpt-a", { type: "text", text: "hello from the agent" });
  tg.push(TOKEN, { chatId: 42, fromId: 42, text: "hi agent" });
  const [reply] = await tg.waitSent(1);
  assert.equal(reply!.chatId, "42");
  assert.equal(reply!.text, "hello from the agent");
  const req = openai.requestsFor("gpt-a")[0]!;
  assert.match(JSON.stringify(req.body.messages), /hi agent/, "the model saw the inbound text");
  const sessions = JSON.parse(await readFile(join(env.stateDir, "agents", "main", "sessions", "sessions.json"), "utf8")) as Record<string, Record<string, unknown>>;
  assert.equal(sessions["agent:main:main"]!.lastChannel, "telegram");
  assert.equal(sessions["agent:main:main"]!.lastTo, "42");
  assert.equal(sessions["agent:main:main"]!.lastAccountId, "default");

  // A reply longer than one Telegram message arrives in chunks of at most 4096 characters.
  const long = `${"a".repeat(4000)} ${"b".repeat(3000)}`;
  openai.script("gpt-a", { type: "text", text: long });
  tg.push(TOKEN, { chatId: 42, fromId: 42, text: "long please" });
  const sent = await tg.waitSent(3);
  assert.ok(sent.slice(1).every((s) => s.text.length <= 4096));
  assert.equal(sent.slice(1).map((s) => s.text).join(" "), long);

  // Sender 7 is not allowed; after the config edit (a `restart-channel` reload) it is.
  const { client } = await connectOk(gw.url, { token: LOCAL_TOKEN });
  t.after(() => client.close());
  const before = (await client.request("channels.status", {})).payload.channelAccounts.telegram[0];
  await env.writeConfig({ ...base, ...gatewayConfig(env.home, tg.apiRoot, openai, { dmPolicy: "allowlist", allowFrom: ["42", "7"] }) });
  await gw.waitLine(/config hot-applied/);
  const after = (await client.request("channels.status", {})).payload.channelAccounts.telegram[0];
  assert.deepEqual(after.allowFrom, ["42", "7"]);
  assert.ok(after.lastStartAt > before.lastStartAt, "the changed account was restarted");
  openai.script("gpt-a", { type: "text", text: "welcome 7" });
  tg.push(TOKEN, { chatId: 7, fromId: 7, text: "let me in" });
  const all = await tg.waitSent(4);
  assert.deepEqual({ chatId: all[3]!.chatId, text: all[3]!.text }, { chatId: "7", text: "welcome 7" });
});

test("gateway run with CLAWDBOT_SKIP_CHANNELS=1: no channel runs although one is configured", async (t) => {
  const { tg, openai } = await fakes(t);
  const env = await localGatewayEnv(t, {});
  await env.writeConfig({ gateway: { mode: "local", auth: { token: LOCAL_TOKEN } }, ...gatewayConfig(env.home, tg.apiRoot, openai, { dmPolicy: "open" }) });
  const gw = await startCliGateway(["--port", "0"], { ...env.env, CLAWDBOT_SKIP_CHANNELS: "1" }, t);
  const { client } = await connectOk(gw.url, { token: LOCAL_TOKEN });
  t.after(() => client.close());
  const status = await client.request("channels.status", {});
  assert.equal(status.ok, false, "the channels module is not loaded");
  const health = await client.request("health", {});
  assert.equal(health.payload.channels?.telegram, undefined);
  assert.equal(tg.calls.filter((c) => c.method === "getUpdates").length, 0, "no worker polled the Bot API");
});
