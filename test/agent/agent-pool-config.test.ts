/**
 * `agents.pool` (ours): the pool's size and runs per thread come from the config when the
 * pool starts; health reports its live and maximum threads; bad values fall back to the
 * defaults (one core left to the main thread, 1 to 4 threads).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { agentTwoStage, startAgentGateway } from "./helpers/agent-gateway.js";
import { agentPoolSettings } from "../../src/main/agents/agent-settings.js";
import { defaultPoolThreads } from "../../src/workers/agent/pool/agent-pool-host.js";
import type { GatewayOptions } from "../../src/main/options.js";

const withPool = (pool: unknown): GatewayOptions => ({ agentConfig: { agents: { pool } } }) as unknown as GatewayOptions;

test("agents.pool: valid values are read, out-of-range ones are named and ignored; default leaves a core to the main thread", () => {
  assert.deepEqual(agentPoolSettings(withPool({ maxThreads: 3, runsPerThread: 8, idleSeconds: 5 })), { settings: { maxThreads: 3, concurrentTasksPerWorker: 8, idleTimeout: 5000 }, invalid: [] });
  const bad = agentPoolSettings(withPool({ maxThreads: 0, runsPerThread: 1.5, idleSeconds: "10" }));
  assert.deepEqual(bad.settings, {});
  assert.deepEqual(bad.invalid, [
    "agents.pool.maxThreads must be an integer from 1 to 64",
    "agents.pool.runsPerThread must be an integer from 1 to 10000",
    "agents.pool.idleSeconds must be an integer from 1 to 86400",
  ]);
  assert.deepEqual(agentPoolSettings(withPool(undefined)), { settings: {}, invalid: [] });
  assert.equal(defaultPoolThreads(), Math.max(1, Math.min(4, availableParallelism() - 1)));
});

test("agents.pool.maxThreads and runsPerThread size the pool of a running gateway; health shows its threads", async (t) => {
  const h = await startAgentGateway();
  t.after(() => h.close());
  h.setConfig({ defaults: { model: "oa/gpt-a" }, pool: { maxThreads: 2, runsPerThread: 1 } });
  const c = await h.connect();
  const before = await c.request("health", { probe: true });
  assert.equal(before.payload.agentRuns.poolStarted, false);
  assert.equal(before.payload.agentRuns.threads, undefined);
  h.openai.script("gpt-a", ...Array.from({ length: 3 }, () => ({ type: "text" as const, text: ["a", "b", "c"], delayMs: 250 })));
  // Three runs at once, one per thread at most: two threads start, the third run waits for one.
  const runs = [1, 2, 3].map((i) => agentTwoStage(c, { message: `run ${i}`, sessionKey: `agent:main:pool-${i}`, idempotencyKey: `pool-${i}` }, 30_000));
  let seen: { threads?: number; maxThreads?: number } = {};
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    seen = (await c.request("health", { probe: true })).payload.agentRuns;
    if (seen.threads === 2) break;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(seen.maxThreads, 2);
  assert.equal(seen.threads, 2);
  for (const [, final] of await Promise.all(runs)) {
    assert.equal(final.ok, true, JSON.stringify(final.error));
    assert.equal(final.payload.status, "ok");
  }
  const after = (await c.request("health", { probe: true })).payload.agentRuns;
  assert.ok(after.threads <= 2, `threads ${after.threads}`);
});
