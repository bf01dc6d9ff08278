/**
 * The real gateway process started without channels (the channels module is not loaded): a
 * config edit that adds the first Telegram account takes effect without a manual restart —
 * the process restarts in-process (same PID) in reload mode `hybrid` and the account answers
 * an allowed DM through the agent. In mode `hot` the restart is reported, not done.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LOCAL_TOKEN, localGatewayEnv, startCliGateway } from "../helpers/cli.js";
import { connectOk } from "../helpers/client.js";
import type { FakeProvider } from "../fakes/fake-http.js";
import { providersFor } from "../agent/helpers/provider-config.js";
import { TOKEN, startChannelFakes } from "../channels/channels-helpers.js";

function baseConfig(home: string, openai: FakeProvider, mode: "hybrid" | "hot"): Record<string, unknown> {
  return {
    gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, reload: { mode, debounceMs: 50 } },
    agents: { defaults: { model: "oa/gpt-a", workspace: join(home, "ws") } },
    models: providersFor({ openai }),
    // An empty section: adding `channels.telegram` is then a `restart-channel` hot action
    // (adding the whole `channels` key is an unclassified path, which restarts anyway).
    channels: {},
  };
}

/** Fakes, then the real gateway process on a config without channel accounts, in reload mode `mode`. */
async function startWithoutChannels(t: TestContext, mode: "hybrid" | "hot") {
  const { tg, openai } = await startChannelFakes(t);
  const env = await localGatewayEnv(t, {});
  const base = baseConfig(env.home, openai, mode);
  await env.writeConfig(base);
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  return { tg, openai, env, base, gw };
}

test("gateway run without channels: adding the first Telegram account to the config loads the channels module and answers a DM", async (t) => {
  const { tg, openai, env, base, gw } = await startWithoutChannels(t, "hybrid");
  const before = (await connectOk(gw.url, { token: LOCAL_TOKEN })).client;
  t.after(() => before.close());
  assert.equal((await before.request("channels.status", {})).ok, false, "no channels module at start");

  openai.script("gpt-a", { type: "text", text: "hello, new channel" });
  tg.push(TOKEN, { chatId: 42, fromId: 42, text: "anyone there?" });
  await env.writeConfig({ ...base, channels: { telegram: { botToken: TOKEN, apiRoot: tg.apiRoot, dmPolicy: "allowlist", allowFrom: ["42"] } } });

  const [reply] = await tg.waitSent(1);
  assert.deepEqual({ chatId: reply!.chatId, text: reply!.text }, { chatId: "42", text: "hello, new channel" });
  assert.match(JSON.stringify(openai.requestsFor("gpt-a")[0]!.body.messages), /anyone there\?/);
  assert.equal(gw.child.exitCode, null, "the same process, never restarted by hand");
  await gw.waitLine(/restarting to load the channels module/);

  const { client } = await connectOk(gw.url, { token: LOCAL_TOKEN });
  t.after(() => client.close());
  const st = await client.request("channels.status", {});
  assert.equal(st.ok, true, JSON.stringify(st));
  assert.equal(st.payload.channelAccounts.telegram[0].running, true);
});

test("reload mode hot: the first channel account is reported as needing a restart and the gateway keeps running without it", async (t) => {
  const { tg, env, base, gw } = await startWithoutChannels(t, "hot");
  const { client } = await connectOk(gw.url, { token: LOCAL_TOKEN });
  t.after(() => client.close());
  await env.writeConfig({ ...base, channels: { telegram: { botToken: TOKEN, apiRoot: tg.apiRoot } } });
  await gw.waitLine(/channels need a gateway restart and were not started/);
  assert.equal((await client.request("channels.status", {})).ok, false, "still no channels module");
  assert.equal(client.frames.filter((f) => f.event === "shutdown").length, 0, "no restart");
  assert.equal(tg.calls.filter((c) => c.method === "getUpdates").length, 0);
});
