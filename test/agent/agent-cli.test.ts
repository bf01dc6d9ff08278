/** `clawdbot agent` against a real `clawdbot gateway` process whose config points at a loopback provider. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_TOKEN, localGatewayEnv, runCli, startCliGateway } from "../helpers/cli.js";
import { startFakeOpenAI } from "../fakes/fake-openai.js";

test("clawdbot agent streams the reply and waits for the final; --json prints the final payload; config sections reach the runs", async (t) => {
  const openai = await startFakeOpenAI();
  t.after(() => openai.close());
  const env = await localGatewayEnv(t, {
    agents: { defaults: { model: "oa/gpt-a", workspace: "/tmp/clawgate-agent-cli-ws" } },
    models: { providers: { oa: { baseUrl: openai.baseUrl, apiKey: "${FAKE_KEY}", api: "openai-completions", models: [{ id: "gpt-a" }] } } },
  });
  env.env.FAKE_KEY = "sk-from-env";
  const gw = await startCliGateway(["--port", "0", "--allow-unconfigured"], env.env, t);
  t.after(() => gw.kill("SIGTERM"));
  openai.script("gpt-a", { type: "text", text: ["Hello ", "from ", "the agent"], delayMs: 20 }, { type: "text", text: "json reply" });
  const r = await runCli(["agent", "--message", "hi there", "--session-key", "agent:main:cli", "--url", gw.url, "--token", LOCAL_TOKEN], env.env, 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "Hello from the agent");
  assert.equal(openai.requests[0]!.headers.authorization, "Bearer sk-from-env");
  const j = await runCli(["agent", "--message", "again", "--session-key", "agent:main:cli", "--json", "--url", gw.url, "--token", LOCAL_TOKEN], env.env, 60_000);
  assert.equal(j.code, 0, j.stderr);
  const payload = JSON.parse(j.stdout);
  assert.equal(payload.status, "ok");
  assert.equal(payload.result.payloads[0].text, "json reply");
});
