/**
 * The consuming end of a ring (exactly one per ring): synchronous, bounded batches.
 *
 * Each record is validated, then copied out of shared memory into a reusable heap
 * scratch buffer before anyone looks at it: msgpackr decodes ~9x slower straight from
 * a SharedArrayBuffer, and a copy means nothing handed on can alias ring memory the
 * producer is about to overwrite. The read offset is stored once per batch (one
 * cache-line transfer instead of one per record), then a sleeping producer is woken.
 *
 * Sleeping (`waitForData`) follows announce / re-check / wait: set CONSUMER_WAITING,
 * re-read WRITE, and only then wait on the flag. The producer stores WRITE before it
 * reads the flag, so one of the two always sees the other (all Atomics are seq-cst).
 */
import { GatewayError } from "../errors.js";
import {
  attachRing,
  CLOSED_PRODUCER,
  closedBits,
  CTRL,
  HEADER_BYTES,
  maxPayloadFor,
  WRAP_MARKER,
  wakeIfWaiting,
} from "./ring-layout.js";
import type { RingBuffers, RingView } from "./ring-layout.js";
import { waitAsyncOn } from "./ring-wait.js";
import type { WaitOutcome } from "./ring-wait.js";

/**
 * Called once per record with a view of the scratch buffer. The view is only valid
 * during the call: decode or copy it before returning.
 */
export type RecordCallback = (payload: Uint8Array, seq: number) => void;

/** Batch bounds so one turn of the event loop stays short. */
export interface BatchLimits {
  /** Most records per batch. Default 1024. */
  maxRecords?: number;
  /** Most bytes (headers included) per batch. Default 256 KiB. */
  maxBytes?: number;
  /** Time budget per batch in ms, checked every 32 records (slow record handlers). Default 4. */
  maxMs?: number;
}

const DEFAULT_MAX_RECORDS = 1024;
const DEFAULT_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_MS = 4;

/** The single consumer of a ring: validated, copied-out, bounded batches. */
export class RingConsumer {
  readonly view: RingView;
  private r: number;
  private expectedSeq: number | null = null;
  /** A plain Uint8Array, not a Buffer: `Buffer#slice` would alias instead of copying. */
  private scratch: Uint8Array;
  private readonly maxPayload: number;

  constructor(buffers: RingBuffers | RingView) {
    this.view = "ctrl" in buffers ? buffers : attachRing(buffers);
    this.r = Atomics.load(this.view.ctrl, CTRL.READ);
    this.maxPayload = maxPayloadFor(this.view.capacity);
    this.scratch = new Uint8Array(Math.min(64 * 1024, this.maxPayload));
  }

  /** True when every published record has been read. */
  isEmpty(): boolean {
    return Atomics.load(this.view.ctrl, CTRL.WRITE) === this.r;
  }

  /** True once the producer side is closed (no further records will be published). */
  get producerClosed(): boolean {
    return (closedBits(this.view.ctrl) & CLOSED_PRODUCER) !== 0;
  }

  /**
   * Reads up to one batch of published records, calling `onRecord` for each.
   * Returns the number of records delivered. Throws GW_ERR_RING_CORRUPT on a bad
   * header; the read offset then stays at the last good record.
   */
  readBatch(onRecord: RecordCallback, limits: BatchLimits = {}): number {
    const maxRecords = limits.maxRecords ?? DEFAULT_MAX_RECORDS;
    const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
    const deadline = performance.now() + (limits.maxMs ?? DEFAULT_MAX_MS);
    const { ctrl, i32, u8, capacity } = this.view;
    const w = Atomics.load(ctrl, CTRL.WRITE);
    let r = this.r;
    let n = 0;
    let bytes = 0;
    try {
      while (r !== w && n < maxRecords && bytes < maxBytes) {
        if ((r & 7) !== 0 || r > capacity - HEADER_BYTES) this.corrupt(r, 0, "read offset out of range");
        const len = i32[r >> 2] as number;
        if (len === WRAP_MARKER) {
          // A marker can only sit past the consumer when the producer has wrapped (W < R).
          if (r < w) this.corrupt(r, len, "wrap marker inside contiguous data");
          r = 0;
          continue;
        }
        const rec = HEADER_BYTES + ((len + 7) & ~7);
        const limit = r < w ? w : capacity - HEADER_BYTES;
        if (len <= 0 || len > this.maxPayload || r + rec > limit) this.corrupt(r, len, "record length out of range");
        const seq = (i32[(r >> 2) + 1] as number) >>> 0;
        if (this.expectedSeq !== null && seq !== this.expectedSeq) this.corrupt(r, len, `sequence ${seq}, expected ${this.expectedSeq}`);
        this.expectedSeq = (seq + 1) >>> 0;
        if (len > this.scratch.length) this.scratch = new Uint8Array(Math.min(this.maxPayload, Math.max(len, this.scratch.length * 2)));
        const start = r + HEADER_BYTES;
        this.scratch.set(u8.subarray(start, start + len));
        r += rec;
        n++;
        bytes += rec;
        onRecord(this.scratch.subarray(0, len), seq);
        if ((n & 31) === 0 && performance.now() > deadline) break;
      }
    } finally {
      this.commit(r);
    }
    return n;
  }

  /**
   * Sleeps (without blocking the thread) until the producer publishes, the ring is
   * closed, or `timeoutMs` passes. Returns "not-equal" at once if data is already there.
   * @param keepAlive hold a ref'd timer while sleeping (default true)
   */
  async waitForData(timeoutMs: number, keepAlive = true): Promise<WaitOutcome> {
    const { ctrl } = this.view;
    Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 1);
    if (Atomics.load(ctrl, CTRL.WRITE) !== this.r || this.producerClosed) {
      Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 0);
      return "not-equal";
    }
    const outcome = await waitAsyncOn(ctrl, CTRL.CONSUMER_WAITING, 1, timeoutMs, keepAlive);
    Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 0);
    return outcome;
  }

  /** Blocking variant of waitForData for worker threads with nothing else to do. */
  waitForDataSync(timeoutMs: number): WaitOutcome {
    const { ctrl } = this.view;
    Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 1);
    if (Atomics.load(ctrl, CTRL.WRITE) !== this.r || this.producerClosed) {
      Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 0);
      return "not-equal";
    }
    const outcome = Atomics.wait(ctrl, CTRL.CONSUMER_WAITING, 1, timeoutMs);
    Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 0);
    return outcome;
  }

  private commit(r: number): void {
    if (r === this.r) return;
    this.r = r;
    Atomics.store(this.view.ctrl, CTRL.READ, r);
    wakeIfWaiting(this.view.ctrl, CTRL.PRODUCER_WAITING);
  }

  private corrupt(offset: number, length: number, what: string): never {
    throw new GatewayError(
      "GW_ERR_RING_CORRUPT",
      `ring data corrupt at offset ${offset} (${what}, length ${length}); the ring must be discarded and the worker restarted`,
      { offset, length, generation: this.view.ctrl[CTRL.GENERATION] },
    );
  }
}
