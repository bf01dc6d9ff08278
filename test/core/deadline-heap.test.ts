/** DeadlineHeap (node invoke timeouts): seeded random operations against a reference model. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeadlineHeap, type HeapItem } from "../../src/main/timers/deadline-heap.js";
import { mulberry32 } from "../helpers/seeded-random.js";

interface Item extends HeapItem {
  n: number;
}

test("random adds/removes: exactly the live items expire, in deadline order, removed ones never", async (t) => {
  const seed = Number(process.env.HEAP_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed}`);
  for (let round = 0; round < 20; round++) {
    const rand = mulberry32(seed + round);
    const clock = { now: 0 };
    const expired: Item[] = [];
    let drained: () => void = () => {};
    const heap = new DeadlineHeap<Item>((it) => {
      expired.push(it);
      if (heap.size === 0) drained();
    }, () => clock.now);
    const live = new Set<Item>();
    const all: Item[] = [];
    for (let i = 0; i < 2000; i++) {
      if (live.size > 0 && rand() < 0.4) {
        const victims = [...live];
        const v = victims[Math.floor(rand() * victims.length)]!;
        heap.remove(v);
        heap.remove(v); // idempotent
        live.delete(v);
      } else {
        const it: Item = { n: i, deadline: Math.floor(rand() * 500), heapIndex: -1 };
        heap.add(it);
        live.add(it);
        all.push(it);
      }
      assert.equal(heap.size, live.size);
    }
    // Everything is due now: the one timer fires and drains the heap in order. Waits for
    // the drain itself (on a loaded host the timer may run after any fixed sleep), bounded.
    clock.now = 1000;
    if (live.size > 0) {
      await new Promise<void>((resolve, reject) => {
        const bound = setTimeout(() => reject(new Error(`round ${round}: heap not drained within 2 s (${expired.length}/${live.size})`)), 2000);
        drained = () => {
          clearTimeout(bound);
          resolve();
        };
      });
    }
    // One more turn of the loop: nothing else may expire.
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(expired.length, live.size, `round ${round}`);
    assert.deepEqual(new Set(expired), live);
    for (let i = 1; i < expired.length; i++) assert.ok(expired[i - 1]!.deadline <= expired[i]!.deadline, `round ${round}: order`);
    assert.ok(all.every((it) => it.heapIndex === -1));
    heap.close();
  }
});

test("only due items expire; a later, earlier deadline re-arms the timer; far deadlines do not overflow the timer", async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on("warning", onWarning);
  t.after(() => void process.off("warning", onWarning));
  const expired: { name: string; at: number; deadline: number }[] = [];
  let bothDue: () => void = () => {};
  const heap = new DeadlineHeap<Item & { name: string }>((it) => {
    expired.push({ name: it.name, at: Date.now(), deadline: it.deadline });
    if (expired.length === 2) bothDue();
  });
  const now = Date.now();
  heap.add({ name: "far", n: 0, deadline: now + 2 ** 40, heapIndex: -1 });
  heap.add({ name: "late", n: 1, deadline: now + 120, heapIndex: -1 });
  heap.add({ name: "soon", n: 2, deadline: now + 20, heapIndex: -1 });
  await new Promise<void>((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error(`not both expired within 5 s: ${JSON.stringify(expired)}`)), 5000);
    bothDue = () => {
      clearTimeout(bound);
      resolve();
    };
  });
  assert.deepEqual(expired.map((e) => e.name), ["soon", "late"]);
  for (const e of expired) assert.ok(e.at >= e.deadline, `${e.name} expired ${e.deadline - e.at} ms before its deadline`);
  assert.equal(heap.size, 1, "the far item waits");
  assert.ok(!warnings.includes("TimeoutOverflowWarning"), "setTimeout was never given more than 2^31-1 ms");
  heap.close();
  assert.equal(heap.size, 0);
});
