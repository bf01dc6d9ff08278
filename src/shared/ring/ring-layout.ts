/**
 * Memory layout of a single-producer/single-consumer ring over SharedArrayBuffer.
 *
 * Two shared buffers per ring: a small control block and the data region. Keeping
 * them apart means the offsets both threads hammer never share a cache line with
 * payload bytes, and fields written by the producer never share a 64-byte line with
 * fields written by the consumer (no false sharing on the hot path).
 *
 * Control block (Int32Array, 5 lines of 64 bytes = 16 int32 slots each):
 *
 *   line 0  header       [0] MAGIC  [1] VERSION  [2] CAPACITY  [3] GENERATION  [4] CLOSED
 *                        written once by the creator; CLOSED by whoever closes the ring
 *   line 1  producer     [16] WRITE offset      [17] PRODUCER_WAITING (0/1)
 *   line 2  consumer     [32] READ offset       [33] CONSUMER_WAITING (0/1)
 *   line 3  counters     [48] RECORDS  [49] FULL_WAITS  [50] OVERFLOWS   (producer side)
 *   line 4  liveness     [64] HEARTBEAT (bumped by the producer-side thread)
 *
 * A waiting flag lives on its owner's line; the *other* side clears it (compare-
 * exchange 1 -> 0) right before `Atomics.notify`, which happens only around a sleep.
 *
 * Data region (capacity bytes, a multiple of 8), a sequence of records:
 *
 *   +--------------+--------------+---------------------------+
 *   | int32 length | uint32 seq   | payload, padded to 8      |
 *   +--------------+--------------+---------------------------+
 *    length -1  = wrap marker: the next record is at offset 0
 *    length  0, < -1, or running past the readable end = corruption
 *
 * Invariants: every offset is 8-aligned and <= capacity - 8 (so a wrap marker always
 * fits at the producer's cursor); `WRITE == READ` means empty and the producer never
 * lets WRITE catch up with READ from behind; the largest record is capacity - 8 bytes
 * including its header (payload <= capacity - 16).
 */
import { GatewayError } from "../errors.js";

export const RING_MAGIC = 0x52494e47; // "RING"
export const RING_VERSION = 1;

/** Int32 slot indices in the control block. */
export const CTRL = {
  MAGIC: 0,
  VERSION: 1,
  CAPACITY: 2,
  GENERATION: 3,
  CLOSED: 4,
  WRITE: 16,
  PRODUCER_WAITING: 17,
  READ: 32,
  CONSUMER_WAITING: 33,
  RECORDS: 48,
  FULL_WAITS: 49,
  OVERFLOWS: 50,
  HEARTBEAT: 64,
} as const;

/** Control block size in bytes (5 cache lines). */
export const CONTROL_BYTES = 5 * 64;
/** Record header size in bytes. */
export const HEADER_BYTES = 8;
/** Header length value of a wrap marker. */
export const WRAP_MARKER = -1;

/** Bits of the CLOSED slot. */
export const CLOSED_PRODUCER = 1; // no more records will be published
export const CLOSED_CONSUMER = 2; // nobody reads any more: writes fail
export const CLOSED_BOTH = CLOSED_PRODUCER | CLOSED_CONSUMER;

/** Smallest and largest data region accepted. */
export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 1 << 30;

/** The two shared buffers of one ring; plain data, safe to pass in `workerData`. */
export interface RingBuffers {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Typed views over a ring's buffers, shared by producer and consumer code. */
export interface RingView {
  ctrl: Int32Array;
  u8: Uint8Array;
  i32: Int32Array;
  capacity: number;
}

/** Bytes a payload of `len` bytes occupies in the ring, header included. */
export function recordBytes(len: number): number {
  return HEADER_BYTES + ((len + 7) & ~7);
}

/** Largest payload a ring of `capacity` bytes can carry. */
export function maxPayloadFor(capacity: number): number {
  return capacity - 2 * HEADER_BYTES;
}

/**
 * Allocates a fresh ring: zeroed control block and data region.
 * @param capacity data region size in bytes, a multiple of 8 in [64, 2^30]
 * @param generation stamped into the header so stale buffers are recognisable (default 1)
 */
export function createRingBuffers(capacity: number, generation = 1): RingBuffers {
  if (!Number.isInteger(capacity) || capacity % 8 !== 0 || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new RangeError(`ring capacity must be a multiple of 8 in [${MIN_CAPACITY}, ${MAX_CAPACITY}], got ${capacity}`);
  }
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const data = new SharedArrayBuffer(capacity);
  const ctrl = new Int32Array(control);
  ctrl[CTRL.VERSION] = RING_VERSION;
  ctrl[CTRL.CAPACITY] = capacity;
  ctrl[CTRL.GENERATION] = generation | 0;
  // MAGIC last: a reader that sees it sees a fully initialised header.
  Atomics.store(ctrl, CTRL.MAGIC, RING_MAGIC);
  return { control, data };
}

/** Validates a ring's header and builds the typed views. Throws GW_ERR_RING_CORRUPT on a bad header. */
export function attachRing(buffers: RingBuffers): RingView {
  const { control, data } = buffers;
  if (!(control instanceof SharedArrayBuffer) || !(data instanceof SharedArrayBuffer) || control.byteLength < CONTROL_BYTES) {
    throw new GatewayError("GW_ERR_RING_CORRUPT", "ring buffers are not SharedArrayBuffers of the expected size; pass the object createRingBuffers returned");
  }
  const ctrl = new Int32Array(control, 0, CONTROL_BYTES / 4);
  const magic = Atomics.load(ctrl, CTRL.MAGIC);
  const version = ctrl[CTRL.VERSION] ?? 0;
  const capacity = ctrl[CTRL.CAPACITY] ?? 0;
  if (magic !== RING_MAGIC || version !== RING_VERSION) {
    throw new GatewayError("GW_ERR_RING_CORRUPT", `ring header mismatch (magic ${magic >>> 0}, version ${version}); both threads must run the same build`, { magic, version });
  }
  if (capacity % 8 !== 0 || capacity < MIN_CAPACITY || capacity > data.byteLength) {
    throw new GatewayError("GW_ERR_RING_CORRUPT", `ring capacity ${capacity} does not match its data region (${data.byteLength} bytes)`, { capacity });
  }
  return { ctrl, u8: new Uint8Array(data, 0, capacity), i32: new Int32Array(data, 0, capacity / 4), capacity };
}

/** Generation stamped into the ring header. */
export function ringGeneration(view: RingView): number {
  return view.ctrl[CTRL.GENERATION] ?? 0;
}

/** Current CLOSED bits. */
export function closedBits(ctrl: Int32Array): number {
  return Atomics.load(ctrl, CTRL.CLOSED);
}

/**
 * Wakes whoever sleeps on `flagIndex` if it announced it was waiting. Clearing the flag
 * before notifying makes a sleeper that has announced but not yet called wait return
 * "not-equal" at once, so the wake-up cannot be lost.
 */
export function wakeIfWaiting(ctrl: Int32Array, flagIndex: number): void {
  if (Atomics.load(ctrl, flagIndex) === 1 && Atomics.compareExchange(ctrl, flagIndex, 1, 0) === 1) {
    Atomics.notify(ctrl, flagIndex);
  }
}

/**
 * Marks a ring closed (`bits` from CLOSED_*) and wakes both sides so no one sleeps on a
 * dead ring. Safe to call from any thread, any number of times.
 */
export function closeRing(buffers: RingBuffers | RingView, bits: number = CLOSED_BOTH): void {
  const ctrl = "ctrl" in buffers ? buffers.ctrl : new Int32Array(buffers.control, 0, CONTROL_BYTES / 4);
  Atomics.or(ctrl, CTRL.CLOSED, bits);
  for (const flag of [CTRL.CONSUMER_WAITING, CTRL.PRODUCER_WAITING]) {
    Atomics.store(ctrl, flag, 0);
    Atomics.notify(ctrl, flag);
  }
}

/** Counters from the control block (uint32, wrapping). */
export interface RingStats {
  capacity: number;
  generation: number;
  closed: number;
  write: number;
  read: number;
  records: number;
  fullWaits: number;
  overflows: number;
  heartbeat: number;
}

/** Snapshot of a ring's control block, for health/status and tests. */
export function readRingStats(buffers: RingBuffers | RingView): RingStats {
  const view = "ctrl" in buffers ? buffers : attachRing(buffers);
  const c = view.ctrl;
  return {
    capacity: view.capacity,
    generation: ringGeneration(view),
    closed: Atomics.load(c, CTRL.CLOSED),
    write: Atomics.load(c, CTRL.WRITE),
    read: Atomics.load(c, CTRL.READ),
    records: Atomics.load(c, CTRL.RECORDS) >>> 0,
    fullWaits: Atomics.load(c, CTRL.FULL_WAITS) >>> 0,
    overflows: Atomics.load(c, CTRL.OVERFLOWS) >>> 0,
    heartbeat: Atomics.load(c, CTRL.HEARTBEAT) >>> 0,
  };
}
