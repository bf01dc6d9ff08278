/**
 * /hooks/agent in a gateway composed as `gateway run` composes it: the hook's isolated run
 * goes through the agents runtime to the (fake) model, its summary lands in the main
 * session's system events, and `/metrics` counts agent runs by outcome.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveHooksConfig } from "../../src/main/hooks/hooks-config.js";
import { MAIN_SESSION_KEY } from "../../src/shared/store/sessions/sessions-info.js";
import { startAgentGateway } from "../agent/helpers/agent-gateway.js";
import { TEST_TOKEN } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";
import { parseExposition } from "../metrics/exposition.js";
import { until } from "../channels/channels-helpers.js";

const HOOK_TOKEN = "hook-token-abcdef0123456789";

async function agentRuns(port: number, outcome: string): Promise<number> {
  const r = await httpRequest(port, "GET", "/metrics", { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  assert.equal(r.status, 200);
  return parseExposition(r.body).get("clawgate_agent_runs_total", { outcome }) ?? 0;
}

function postHook(port: number, body: unknown): ReturnType<typeof httpRequest> {
  return httpRequest(port, "POST", "/hooks/agent", { headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
}

test("POST /hooks/agent: 202 with a runId, the model is called, the summary reaches the main session, /metrics counts the run", async (t) => {
  const h = await startAgentGateway({ hooks: resolveHooksConfig({ enabled: true, token: HOOK_TOKEN }) });
  t.after(() => h.close());
  const port = h.gw.port;
  const okBefore = await agentRuns(port, "ok");
  h.openai.script("gpt-a", { type: "text", text: "build is green" });

  const res = await postHook(port, { message: "check the build", name: "CI", wakeMode: "next-heartbeat" });
  assert.equal(res.status, 202, res.body);
  const body = JSON.parse(res.body) as { ok: boolean; runId: string };
  assert.equal(body.ok, true);
  assert.match(body.runId, /^[0-9a-f-]{36}$/);

  const events = (): readonly string[] => h.gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY);
  await until(() => events().length > 0, "the hook run's summary");
  assert.deepEqual(events(), ["Hook CI: build is green"]);
  const calls = h.openai.requestsFor("gpt-a");
  assert.equal(calls.length, 1);
  assert.match(JSON.stringify(calls[0]!.body.messages), /check the build/);
  assert.equal(await agentRuns(port, "ok"), okBefore + 1);

  // A run the model fails is counted under `error` and summarised with its status.
  const errBefore = await agentRuns(port, "error");
  h.openai.script("gpt-a", { type: "error", status: 400, message: "bad request from fake" });
  assert.equal((await postHook(port, { message: "again", name: "CI" })).status, 202);
  await until(() => events().length > 1, "the failed run's summary");
  assert.match(events()[1]!, /^Hook CI \(error\): /);
  assert.equal(await agentRuns(port, "error"), errBefore + 1);
});

test("POST /hooks/agent with `model`: the run calls that model first (guarantee 44: the override is forwarded)", async (t) => {
  const h = await startAgentGateway({ hooks: resolveHooksConfig({ enabled: true, token: HOOK_TOKEN }) });
  t.after(() => h.close());
  h.openai.script("gpt-b", { type: "text", text: "answered by b" });
  assert.equal((await postHook(h.gw.port, { message: "which model?", name: "M", model: "oa/gpt-b" })).status, 202);
  const events = (): readonly string[] => h.gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY);
  await until(() => events().length > 0, "the hook run's summary");
  assert.deepEqual(events(), ["Hook M: answered by b"]);
  assert.equal(h.openai.requestsFor("gpt-b").length, 1);
  assert.equal(h.openai.requestsFor("gpt-a").length, 0);

  // An override naming a provider that is not configured fails the run with the key to set.
  assert.equal((await postHook(h.gw.port, { message: "again", name: "M", model: "nope/x" })).status, 202);
  await until(() => events().length > 1, "the failed run's summary");
  assert.match(events()[1]!, /^Hook M \(error\): .*models\.providers\.nope/);
});
