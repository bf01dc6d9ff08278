/** MainRingWriter `coalesce`: records written in one event-loop turn are published together, in order, none lost. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RingConsumer } from "../../src/shared/ring/ring-consumer.js";
import { createRingBuffers, readRingStats } from "../../src/shared/ring/ring-layout.js";
import { MainRingWriter } from "../../src/shared/ring/main-ring-writer.js";

const rec = (i: number): Uint8Array => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7, 7]);

function readAll(c: RingConsumer): number[] {
  const out: number[] = [];
  c.readBatch((p) => out.push(p[0]! | (p[1]! << 8)), { maxRecords: 1 << 20, maxBytes: 1 << 30, maxMs: 1000 });
  return out;
}

test("a turn's records become visible together at the next check phase", async () => {
  const ring = createRingBuffers(4096);
  const writer = new MainRingWriter(ring, { coalesce: true });
  const consumer = new RingConsumer(ring);
  for (let i = 0; i < 10; i++) writer.write(rec(i));
  assert.deepEqual(readAll(consumer), [], "nothing is published within the writing turn");
  assert.equal(readRingStats(ring).records, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(readAll(consumer), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("a plain writer publishes each record at once", () => {
  const ring = createRingBuffers(4096);
  const writer = new MainRingWriter(ring);
  const consumer = new RingConsumer(ring);
  writer.write(rec(1));
  assert.deepEqual(readAll(consumer), [1]);
});

test("whenDrained publishes what is staged", async () => {
  const ring = createRingBuffers(4096);
  const writer = new MainRingWriter(ring, { coalesce: true });
  const consumer = new RingConsumer(ring);
  writer.write(rec(3));
  await writer.whenDrained();
  assert.deepEqual(readAll(consumer), [3]);
});

test("filling the ring within one turn overflows in order and nothing is lost", async () => {
  const ring = createRingBuffers(1024);
  const writer = new MainRingWriter(ring, { coalesce: true, maxQueuedRecords: 10_000 });
  const consumer = new RingConsumer(ring);
  const n = 2000;
  for (let i = 0; i < n; i++) writer.write(rec(i));
  assert.ok(writer.pending > 0, "the ring filled and records queued");
  const seen: number[] = [];
  while (seen.length < n) {
    seen.push(...readAll(consumer));
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i & 0xffff));
});
