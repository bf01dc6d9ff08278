/** KeyedWriteQueue: per-key order, a global in-flight limit, failures reported and skipped. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedWriteQueue } from "../../src/main/cluster/keyed-write-queue.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

test("writes of one key run in order; at most `limit` run at once; the rest wait their turn", async () => {
  const errors: string[] = [];
  const q = new KeyedWriteQueue(3, (key) => errors.push(key));
  let running = 0;
  let peak = 0;
  const log: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const write = (key: string, tag: string) =>
    q.push(key, async () => {
      running++;
      peak = Math.max(peak, running);
      const g = deferred();
      gates.set(tag, g);
      await g.promise;
      log.push(tag);
      running--;
    });
  for (let i = 0; i < 10; i++) write(`k${i}`, `put-${i}`);
  write("k0", "delete-0");
  assert.equal(q.size, 10);
  assert.equal(q.has("k0"), true);
  // Release whatever is running until everything is done, newest first, to shake the order.
  while (log.length < 11) {
    await new Promise((r) => setImmediate(r));
    const open = [...gates.entries()].filter(([tag]) => !log.includes(tag));
    for (const [, g] of open.reverse()) g.resolve();
  }
  await q.drained();
  assert.ok(peak <= 3, `peak ${peak}`);
  assert.ok(log.indexOf("put-0") < log.indexOf("delete-0"), "a key's writes keep their order");
  assert.equal(q.size, 0);
  assert.deepEqual(errors, []);
});

test("a failing write is reported and the key's next write still runs", async () => {
  const errors: string[] = [];
  const q = new KeyedWriteQueue(1, (key, err) => errors.push(`${key}: ${String(err)}`));
  const done: string[] = [];
  q.push("a", async () => {
    throw new Error("timeout");
  });
  q.push("a", async () => {
    done.push("a2");
  });
  q.push("b", async () => {
    done.push("b");
  });
  await q.drained();
  assert.deepEqual(errors, ["a: Error: timeout"]);
  assert.deepEqual(done.sort(), ["a2", "b"]);
});
