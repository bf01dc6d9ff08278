/** Run admission (per-session FIFO + maxConcurrent) and the bounded TTL caches, as units. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RunLanes } from "../../src/main/agents/run-lanes.js";
import { TtlCache } from "../../src/main/agents/ttl-cache.js";
import { RunWaits } from "../../src/main/agents/run-waits.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test("maxConcurrent caps runs across sessions; a session runs one at a time, FIFO; a queued waiter can be aborted", async () => {
  let max = 2;
  const lanes = new RunLanes(() => max);
  const order: string[] = [];
  const releases = new Map<string, () => void>();
  const start = (key: string, id: string, signal?: AbortSignal): Promise<void> =>
    lanes.acquire(key, signal).then((rel) => {
      order.push(id);
      releases.set(id, rel);
    });
  const pA1 = start("a", "a1");
  const pA2 = start("a", "a2");
  const pB = start("b", "b1");
  const pC = start("c", "c1");
  const ac = new AbortController();
  const pD = start("d", "d1", ac.signal);
  await tick();
  assert.deepEqual(order, ["a1", "b1"]);
  assert.equal(lanes.running, 2);
  ac.abort(new Error("gone"));
  await assert.rejects(pD, /gone/);
  releases.get("a1")!();
  await tick();
  // a2 waited for session a, then queued for a slot behind c1
  assert.deepEqual(order, ["a1", "b1", "c1"]);
  max = 3; // read live at the next admission
  releases.get("b1")!();
  await tick();
  assert.deepEqual(order, ["a1", "b1", "c1", "a2"]);
  await Promise.all([pA1, pA2, pB, pC]);
  for (const id of ["c1", "a2"]) releases.get(id)!();
  assert.equal(lanes.running, 0);
  assert.equal(lanes.isBusy("a"), false);
});

test("TTL cache: entries expire, the oldest is evicted past the cap; agent.wait answers from the cache or times out", async () => {
  let t = 0;
  const c = new TtlCache<number>(1000, 3, () => t);
  for (const k of ["a", "b", "c", "d"]) c.set(k, 1);
  assert.equal(c.get("a"), undefined);
  assert.equal(c.size, 3);
  t = 999;
  assert.equal(c.get("b"), 1);
  t = 1000;
  assert.equal(c.get("b"), undefined);

  const w = new RunWaits();
  assert.deepEqual(await w.wait("r", 0), { runId: "r", status: "timeout" });
  const pending = w.wait("r", 5000);
  w.started("r", 10);
  w.finished("r", { phase: "error", endedAt: 20, error: "boom" });
  assert.deepEqual(await pending, { runId: "r", status: "error", startedAt: 10, endedAt: 20, error: "boom" });
  assert.deepEqual(await w.wait("r", 0), { runId: "r", status: "error", startedAt: 10, endedAt: 20, error: "boom" });
  assert.deepEqual(await w.wait("never", 20), { runId: "never", status: "timeout" });
});
