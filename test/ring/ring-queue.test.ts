/**
 * Single-thread properties of the SPSC ring: FIFO order under seeded random
 * interleavings, wrap edges, every record size, the standalone wrap, limits,
 * corruption detection, and that decoded values never alias ring memory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GatewayError } from "../../src/shared/errors.js";
import { createRingCodec } from "../../src/shared/ring/ring-codec.js";
import { RingConsumer } from "../../src/shared/ring/ring-consumer.js";
import { attachRing, createRingBuffers, CTRL, maxPayloadFor, readRingStats, recordBytes, WRAP_MARKER } from "../../src/shared/ring/ring-layout.js";
import type { RingBuffers } from "../../src/shared/ring/ring-layout.js";
import { RingProducer } from "../../src/shared/ring/ring-producer.js";
import { RingReader } from "../../src/shared/ring/ring-reader.js";
import { checkPayload, makePayload, prng, randInt } from "../fixtures/ring-test-utils.js";

const GUARD = 64;
const CANARY = 0xcc;

/** A ring whose data region is followed by canary bytes the ring must never touch. */
function guardedRing(capacity: number): { ring: RingBuffers; guard: Uint8Array } {
  const { control } = createRingBuffers(capacity);
  const data = new SharedArrayBuffer(capacity + GUARD);
  const guard = new Uint8Array(data, capacity, GUARD);
  guard.fill(CANARY);
  return { ring: { control, data }, guard };
}

function drainAll(c: RingConsumer): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (c.readBatch((b) => out.push(b.slice())) > 0);
  return out;
}

function isCoded(code: string): (err: unknown) => boolean {
  return (err) => err instanceof GatewayError && err.code === code;
}

test("seeded random interleavings match a reference FIFO over many trips round the ring", () => {
  for (const seed of [1, 7, 42, 1234, 99991]) {
    const capacity = 1024;
    const max = maxPayloadFor(capacity);
    const { ring, guard } = guardedRing(capacity);
    const p = new RingProducer(ring);
    const c = new RingConsumer(ring);
    const rand = prng(seed);
    const fifo: Array<{ id: number; len: number }> = [];
    let nextId = 0;
    let pendingLen = -1; // a record refused as "full" is retried first, to keep order
    let delivered = 0;
    let trips = 0;
    let lastWrite = 0;
    let bigOnes = 0;
    const sizeOf = (): number => {
      const k = rand();
      if (k < 0.7) return randInt(rand, 1, 64);
      if (k < 0.9) return randInt(rand, 65, 400);
      return randInt(rand, capacity / 2, max);
    };
    for (let step = 0; step < 6000; step++) {
      if (rand() < 0.55) {
        const burst = randInt(rand, 1, 8);
        for (let i = 0; i < burst; i++) {
          const len = pendingLen > 0 ? pendingLen : sizeOf();
          const ok = p.tryWrite(makePayload(nextId, len));
          if (!ok) {
            pendingLen = len;
            if (fifo.length === 0) {
              // Liveness: in an empty ring any legal size fits once the consumer has
              // stepped over a (standalone) wrap marker.
              assert.equal(c.readBatch(() => assert.fail("empty ring yielded a record")), 0);
              assert.ok(p.tryWrite(makePayload(nextId, len)), `seed ${seed}: ${len}-byte record refused by an empty ring`);
            } else break;
          }
          pendingLen = -1;
          if (len > capacity / 2) bigOnes++;
          fifo.push({ id: nextId++, len });
          const w = readRingStats(ring).write;
          if (w < lastWrite) trips++;
          lastWrite = w;
        }
      } else {
        c.readBatch(
          (bytes) => {
            const want = fifo.shift();
            assert.ok(want, "consumer read a record that was never written");
            assert.equal(bytes.length, want.len);
            assert.ok(checkPayload(bytes, want.id), `seed ${seed}: record ${want.id} corrupted`);
            delivered++;
          },
          { maxRecords: randInt(rand, 1, 16) },
        );
      }
    }
    for (const bytes of drainAll(c)) {
      const want = fifo.shift();
      assert.ok(want && checkPayload(bytes, want.id) && bytes.length === want.len, `seed ${seed}: final drain out of order: ${JSON.stringify(want)} got ${bytes.length}`);
      delivered++;
    }
    assert.equal(fifo.length, 0);
    assert.equal(delivered, nextId);
    assert.ok(trips > 100, `seed ${seed}: only ${trips} trips round the ring`);
    assert.ok(bigOnes > 20, `seed ${seed}: only ${bigOnes} records larger than half the ring`);
    assert.ok(guard.every((b) => b === CANARY), `seed ${seed}: bytes past the data region were overwritten`);
  }
});

/** Moves both offsets to `at` (a multiple of 8) with one filler record. */
function parkAt(p: RingProducer, c: RingConsumer, at: number): void {
  assert.ok(p.tryWrite(makePayload(999, at - 8)));
  assert.equal(drainAll(c).length, 1);
  assert.equal(readRingStats(p.view).write, at);
}

test("wrap edges: tail = record + 8 fits in place; one byte more wraps", () => {
  const capacity = 256;
  const tail = 96;
  const at = capacity - tail; // 160
  // Exact fit: 8-byte header + payload padded to 80 + the spare 8 bytes == tail.
  for (const len of [tail - 16, tail - 16 - 7]) {
    const ring = createRingBuffers(capacity);
    const p = new RingProducer(ring);
    const c = new RingConsumer(ring);
    parkAt(p, c, at);
    assert.ok(p.tryWrite(makePayload(len, len)));
    assert.equal(readRingStats(ring).write, capacity - 8, `len ${len} should land at the tail`);
    const [got] = drainAll(c);
    assert.ok(got && got.length === len && checkPayload(got, len));
  }
  // One byte more (record + 7 over the limit after padding) or record == tail: wraps.
  for (const len of [tail - 15, tail - 8, tail - 7]) {
    const ring = createRingBuffers(capacity);
    const p = new RingProducer(ring);
    const c = new RingConsumer(ring);
    parkAt(p, c, at);
    assert.ok(p.tryWrite(makePayload(len, len)));
    const view = attachRing(ring);
    assert.equal(view.i32[at >> 2], WRAP_MARKER, `len ${len}: wrap marker expected at ${at}`);
    assert.equal(readRingStats(ring).write, recordBytes(len), `len ${len} should land at 0`);
    const [got] = drainAll(c);
    assert.ok(got && got.length === len && checkPayload(got, len));
  }
  // Behind the reader, the producer must stop strictly before it: W + rec == R is refused.
  const ring = createRingBuffers(capacity);
  const p = new RingProducer(ring);
  const c = new RingConsumer(ring);
  parkAt(p, c, at);
  assert.ok(p.tryWrite(makePayload(1, 88))); // wraps: marker at 160, record [0, 96)
  assert.equal(readRingStats(ring).write, 96);
  assert.equal(p.tryWrite(makePayload(2, at - 96 - 8)), false, "W + rec == R must count as full");
  assert.ok(p.tryWrite(makePayload(3, at - 96 - 16)));
  const got = drainAll(c);
  assert.equal(got.length, 2);
  assert.ok(checkPayload(got[0]!, 1) && checkPayload(got[1]!, 3));
});

test("every record size up to the maximum passes, from shifting offsets (standalone wrap)", () => {
  const capacity = 512;
  const max = maxPayloadFor(capacity);
  const ring = createRingBuffers(capacity);
  const p = new RingProducer(ring);
  const c = new RingConsumer(ring);
  let standaloneWraps = 0;
  for (let len = 1; len <= max; len++) {
    const filler = ((len * 7) % 40) + 1;
    assert.ok(p.tryWrite(makePayload(-len, filler)));
    drainAll(c);
    if (!p.tryWrite(makePayload(len, len))) {
      // Empty ring, offsets mid-way: the producer has published a standalone wrap; once
      // the consumer steps over the marker the record must fit.
      standaloneWraps++;
      assert.equal(drainAll(c).length, 0);
      assert.ok(p.tryWrite(makePayload(len, len)), `record of ${len} bytes never fits`);
    }
    const got = drainAll(c);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.length === len && checkPayload(got[0]!, len), `record of ${len} bytes corrupted`);
  }
  assert.ok(standaloneWraps > 20, `standalone wrap exercised only ${standaloneWraps} times`);
  assert.throws(() => p.tryWrite(new Uint8Array(max + 1)), (err: unknown) => {
    assert.ok(isCoded("GW_ERR_RING_RECORD_TOO_LARGE")(err));
    assert.deepEqual((err as GatewayError).details, { bytes: max + 1, maxBytes: max });
    return true;
  });
  assert.throws(() => p.tryWrite(new Uint8Array(capacity * 2)), isCoded("GW_ERR_RING_RECORD_TOO_LARGE"));
});

test("a record larger than half the ring passes while offsets sit mid-way (no deadlock)", () => {
  const capacity = 1024;
  const ring = createRingBuffers(capacity);
  const p = new RingProducer(ring);
  const c = new RingConsumer(ring);
  parkAt(p, c, 400);
  const big = makePayload(5, 900);
  assert.equal(p.tryWrite(big), false); // standalone wrap published; consumer must step over it
  assert.equal(readRingStats(ring).write, 0);
  assert.equal(drainAll(c).length, 0);
  assert.ok(p.tryWrite(big));
  const got = drainAll(c);
  assert.ok(got.length === 1 && checkPayload(got[0]!, 5));
});

test("corrupt headers fail with GW_ERR_RING_CORRUPT and stop the reader", async () => {
  const cases: Array<[string, (v: ReturnType<typeof attachRing>) => void]> = [
    ["zero length", (v) => (v.i32[0] = 0)],
    ["negative length", (v) => (v.i32[0] = -7)],
    ["length past the write offset", (v) => (v.i32[0] = 41)],
    ["length past the ring", (v) => (v.i32[0] = 1 << 20)],
    ["wrap marker inside contiguous data", (v) => (v.i32[0] = WRAP_MARKER)],
    ["sequence skipped", (v) => (v.i32[(recordBytes(16) >> 2) + 1] = 77)],
  ];
  for (const [what, poke] of cases) {
    const ring = createRingBuffers(256);
    const p = new RingProducer(ring);
    const c = new RingConsumer(ring);
    assert.ok(p.tryWrite(makePayload(1, 16)));
    assert.ok(p.tryWrite(makePayload(2, 16)));
    poke(attachRing(ring));
    assert.throws(() => drainAll(c), isCoded("GW_ERR_RING_CORRUPT"), what);
  }
  // Through the async reader: reported once via onError, loop ends.
  const ring = createRingBuffers(256);
  const p = new RingProducer(ring);
  assert.ok(p.tryWrite(makePayload(1, 16)));
  attachRing(ring).i32[0] = 0;
  const errors: unknown[] = [];
  const reader = new RingReader(ring, () => assert.fail("corrupt record delivered"), { onError: (e) => errors.push(e) });
  await reader.start();
  assert.equal(errors.length, 1);
  assert.ok(isCoded("GW_ERR_RING_CORRUPT")(errors[0]));
  // A bad header on attach is a coded error as well.
  const bad = createRingBuffers(256);
  new Int32Array(bad.control)[CTRL.MAGIC] = 0;
  assert.throws(() => attachRing(bad), isCoded("GW_ERR_RING_CORRUPT"));
});

test("decoded values never alias ring memory or the scratch buffer", () => {
  const ring = createRingBuffers(4096);
  const p = new RingProducer(ring);
  const c = new RingConsumer(ring);
  const codec = createRingCodec();
  const first = { bin: new Uint8Array(300).fill(7), nested: { list: [1, 2, 3], s: "hello" } };
  assert.ok(p.tryWrite(codec.encode(first)));
  let decoded: { bin: Uint8Array; nested: { list: number[]; s: string } } | undefined;
  c.readBatch((bytes) => {
    decoded = codec.decode(bytes) as typeof decoded;
  });
  assert.ok(decoded);
  assert.ok(!(decoded.bin.buffer instanceof SharedArrayBuffer), "binary value is a view of shared memory");
  // Reuse the scratch buffer with different bytes, then wipe the ring itself.
  assert.ok(p.tryWrite(codec.encode({ bin: new Uint8Array(300).fill(9), nested: { list: [], s: "x" } })));
  c.readBatch((bytes) => void codec.decode(bytes));
  attachRing(ring).u8.fill(0);
  assert.deepEqual([...new Set(decoded.bin)], [7], "decoded bytes changed after the scratch buffer was reused");
  assert.deepEqual(decoded.nested, { list: [1, 2, 3], s: "hello" });
});
