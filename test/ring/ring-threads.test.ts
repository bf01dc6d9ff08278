/**
 * The ring across real threads: a million records, a flood that must not stall the
 * main thread, wake-up latency, and a producer killed between writing and publishing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { spawnWorkerThread } from "../../src/main/workers/spawn-worker.js";
import { createRingCodec } from "../../src/shared/ring/ring-codec.js";
import { RingConsumer } from "../../src/shared/ring/ring-consumer.js";
import { attachRing, CLOSED_PRODUCER, closeRing, createRingBuffers, HEADER_BYTES, readRingStats, recordBytes } from "../../src/shared/ring/ring-layout.js";
import { MainRingWriter } from "../../src/shared/ring/main-ring-writer.js";
import { RingReader } from "../../src/shared/ring/ring-reader.js";
import { waitAsyncOn } from "../../src/shared/ring/ring-wait.js";
import { percentile, prng, randInt } from "../fixtures/ring-test-utils.js";
import type { RingWorkerJob } from "../fixtures/ring-worker.js";

const ENTRY = new URL("../fixtures/ring-worker.ts", import.meta.url);

function startJob(job: RingWorkerJob): { worker: Worker; exited: Promise<number> } {
  const worker = spawnWorkerThread(ENTRY, { workerData: job });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", resolve);
  });
  return { worker, exited };
}

test("10^6 records of random sizes cross threads in order, intact", async () => {
  const ring = createRingBuffers(256 * 1024);
  const count = 1_000_000;
  const seed = 2024;
  const { exited } = startJob({ mode: "flood-raw", ring, count, seed, minLen: 4, maxLen: 48 });
  const rand = prng(seed);
  let next = 0;
  let bad = -1;
  const reader = new RingReader(ring, (b) => {
    const id = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const len = randInt(rand, 4, 48);
    let ok = id === next && b.length === len;
    for (let i = 4; ok && i < len; i++) ok = b[i] === ((id * 31 + i) & 0xff);
    if (!ok && bad < 0) bad = next;
    next++;
  });
  await reader.start(); // ends when the worker closes its end and the ring is drained
  assert.equal(await exited, 0);
  assert.equal(bad, -1, `first bad record at #${bad}`);
  assert.equal(next, count);
  const stats = readRingStats(ring);
  assert.equal(stats.records, count);
  assert.equal(stats.write, stats.read);
});

/**
 * Event-loop delay p99 of a main thread that behaves ideally (4 ms chunks of work, then
 * yields) next to a spinning worker: what this machine's scheduler alone costs right now.
 * On a quiet machine it is a few ms; on a shared, overloaded one it can exceed 20 ms.
 */
async function baselineDelayP99(ms: number): Promise<number> {
  const spinner = new Worker(`const end = Date.now() + ${ms}; while (Date.now() < end);`, { eval: true });
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const until = performance.now() + 4;
    while (performance.now() < until);
    await new Promise((resolve) => setImmediate(resolve));
  }
  eld.disable();
  await spinner.terminate();
  return eld.percentile(99) / 1e6;
}

test("a worker flooding the main thread keeps order and event-loop delay p99 < 20 ms", async (t) => {
  const baselineBefore = await baselineDelayP99(400);
  // Much bigger than one batch, so an unbounded or never-yielding drain would starve timers.
  const ring = createRingBuffers(2 * 1024 * 1024);
  const count = 150_000;
  const seed = 77;
  const codec = createRingCodec();
  const rand = prng(seed);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const { exited } = startJob({ mode: "flood-codec", ring, count, seed });
  let next = 0;
  let bad = -1;
  let floodStart = 0;
  const reader = new RingReader(ring, (bytes) => {
    if (next === 0) {
      floodStart = performance.now(); // measure the flood only, not the worker's start-up
      eld.enable();
    }
    const m = codec.decode(bytes) as { i: number; s: string; n: number[] };
    const len = randInt(rand, 0, 120);
    if ((m.i !== next || m.s.length !== len || m.n[2] !== next * 3) && bad < 0) bad = next;
    next++;
    // ~2 us of handler work per record: the worker outpaces us and the ring stays full.
    const until = performance.now() + 0.002;
    while (performance.now() < until);
  });
  await reader.start();
  eld.disable();
  const floodMs = performance.now() - floodStart;
  assert.equal(await exited, 0);
  assert.equal(bad, -1, `first out-of-order record at #${bad}`);
  assert.equal(next, count);
  assert.ok(readRingStats(ring).fullWaits > 0, "the flood never filled the ring; the test proves nothing");
  // The histogram counts samples, not time: a starved loop yields one huge sample and a
  // harmless p99. So also require that the 1 ms probe timer actually ran all along.
  assert.ok(eld.count > floodMs / 25, `event loop turned only ${eld.count} times in ${floodMs.toFixed(0)} ms of flood`);
  const p99 = eld.percentile(99) / 1e6;
  // 20 ms on a quiet machine; when other processes overload the cores, the bound follows
  // what an ideally-behaved main thread measured just before and after (same machine).
  const baseline = Math.max(baselineBefore, await baselineDelayP99(400));
  const bound = Math.max(20, 3 * baseline);
  t.diagnostic(`event-loop delay p99 ${p99.toFixed(1)} ms under flood (bound ${bound.toFixed(1)}, baseline of an ideal main thread ${baseline.toFixed(1)}) over ${eld.count} samples`);
  assert.ok(p99 < bound, `main-thread event-loop delay p99 ${p99.toFixed(1)} ms under a flood (bound ${bound.toFixed(1)} ms)`);
});

test("main -> worker: a full ring queues in order, refuses past the bound, never drops", async () => {
  const ring = createRingBuffers(4096);
  const go = new SharedArrayBuffer(4);
  const { worker, exited } = startJob({ mode: "paused-consumer", ring, go });
  const result = new Promise<{ count: number; firstBad: number }>((resolve) => worker.once("message", resolve));
  const writer = new MainRingWriter(ring, { maxQueuedRecords: 2000 });
  const rec = new Uint8Array(32);
  let accepted = 0;
  let refusal: unknown = null;
  for (let id = 0; id < 10_000; id++) {
    new DataView(rec.buffer).setUint32(0, id, true);
    try {
      writer.write(rec);
      accepted++;
    } catch (err) {
      refusal = err;
      break;
    }
  }
  assert.ok(refusal, "the writer never refused");
  assert.equal((refusal as { code?: string }).code, "GW_ERR_RING_OVERFLOW");
  assert.equal((refusal as { retryable?: boolean }).retryable, true);
  assert.equal((refusal as { protocolCode?: string }).protocolCode, "UNAVAILABLE");
  assert.equal(writer.pending, 2000);
  assert.ok(accepted > 2000);
  assert.ok(readRingStats(ring).overflows >= 2000);
  const goFlag = new Int32Array(go);
  Atomics.store(goFlag, 0, 1);
  Atomics.notify(goFlag, 0);
  await writer.whenDrained();
  closeRing(ring, CLOSED_PRODUCER); // producer done: the worker drains and reports
  const { count, firstBad } = await result;
  assert.equal(await exited, 0);
  assert.equal(firstBad, -1, `record #${firstBad} arrived out of order`);
  assert.equal(count, accepted);
  assert.equal(writer.stats().rejected, 1);
});

test("wake-up latency: an idle waitAsync consumer is woken by notify, not by its timeout", async () => {
  const toWorker = createRingBuffers(4096);
  const toMain = createRingBuffers(4096);
  const { exited } = startJob({ mode: "pingpong", toWorker, toMain });
  const writer = new MainRingWriter(toWorker);
  let onPong: () => void = () => {};
  const reader = new RingReader(toMain, () => onPong(), { idleWaitMs: 5000 });
  void reader.start();
  const rtts: number[] = [];
  const ping = new Uint8Array(16);
  for (let i = -5; i < 300; i++) {
    const t0 = performance.now();
    const pong = new Promise<void>((resolve) => (onPong = resolve));
    writer.write(ping);
    await pong;
    if (i >= 0) rtts.push(performance.now() - t0); // the first pings also wait for the worker to start
  }
  closeRing(toWorker, CLOSED_PRODUCER);
  assert.equal(await exited, 0);
  reader.close();
  const p50 = percentile(rtts, 50);
  const p90 = percentile(rtts, 90);
  assert.ok(p50 < 5, `round-trip p50 ${p50.toFixed(2)} ms (both sides asleep between pings)`);
  assert.ok(p90 < 25, `round-trip p90 ${p90.toFixed(2)} ms`);
});

test("a producer killed between writing a record and publishing it leaves nothing readable", async () => {
  const ring = createRingBuffers(1024);
  const signal = new SharedArrayBuffer(8);
  const first = Array.from({ length: 20 }, (_, i) => i + 1);
  const second = Array.from({ length: 30 }, (_, i) => 200 - i);
  const { worker, exited } = startJob({ mode: "stage-hang", ring, signal, first, second });
  const sig = new Int32Array(signal);
  while (Atomics.load(sig, 0) === 0) await waitAsyncOn(sig, 0, 0, 5000);
  // The second record really is in shared memory, complete, just not published.
  const view = attachRing(ring);
  const at = recordBytes(first.length);
  assert.equal(view.i32[at >> 2], second.length);
  assert.deepEqual([...view.u8.subarray(at + HEADER_BYTES, at + HEADER_BYTES + second.length)], second);
  assert.equal(readRingStats(ring).write, at);
  await worker.terminate();
  await exited;
  closeRing(ring);
  const c = new RingConsumer(ring);
  const got: number[][] = [];
  while (c.readBatch((b) => got.push([...b])) > 0);
  assert.deepEqual(got, [first]);
  assert.ok(c.isEmpty());
});
