/**
 * The producing end of a ring (exactly one per ring).
 *
 * Placement of a record of `rec` bytes (header included) with the producer's cursor W
 * and the consumer's offset R (see ring-layout.ts for the record format):
 *
 *   W >= R  (free space is [W, cap) and [0, R))
 *     1. W + rec + 8 <= cap   -> write at W. The spare 8 bytes keep room for a wrap
 *                                marker at the new cursor, always.
 *     2. rec < R              -> wrap marker at W, record at 0.
 *     3. R != 0               -> wrap marker at W and publish W = 0 on its own
 *                                ("standalone wrap"), then retry. Without this a record
 *                                bigger than about half the ring never fits, even in an
 *                                empty ring whose offsets sit mid-way.
 *     4. otherwise            -> full.
 *   W < R   (free space is [W, R))
 *     W + rec < R             -> write at W (strict: W == R would read as "empty"), else full.
 *
 * A record becomes visible only when the cursor is published with `Atomics.store`
 * after every byte of it is written; a producer that dies mid-write leaves nothing
 * readable. Staging several records and publishing once is allowed (`tryStage` +
 * `publish`); a standalone wrap publishes whatever was staged before it, which is
 * fine because those records are complete.
 */
import { isMainThread } from "node:worker_threads";
import { GatewayError } from "../errors.js";
import {
  attachRing,
  CLOSED_CONSUMER,
  closedBits,
  CTRL,
  HEADER_BYTES,
  maxPayloadFor,
  recordBytes,
  WRAP_MARKER,
  wakeIfWaiting,
} from "./ring-layout.js";
import type { RingBuffers, RingView } from "./ring-layout.js";
import { waitAsyncOn } from "./ring-wait.js";
import type { WaitOutcome } from "./ring-wait.js";

/** Options for a blocking write (workers only). */
export interface BlockingWriteOptions {
  /** Length of one `Atomics.wait` slice in ms; the closed flag is re-checked between slices. Default 250. */
  sliceMs?: number;
  /** Give up after this many ms of a full ring with GW_ERR_RING_OVERFLOW. Default Infinity. */
  timeoutMs?: number;
}

/** The single producer of a ring: placement, publication, and waiting for space. */
export class RingProducer {
  readonly view: RingView;
  /** Largest payload this ring accepts, in bytes. */
  readonly maxPayload: number;
  private w: number;
  private published: number;
  private seq: number;
  private publishedSeq: number;
  private lastSeenRead = -1;

  constructor(buffers: RingBuffers | RingView) {
    this.view = "ctrl" in buffers ? buffers : attachRing(buffers);
    this.maxPayload = maxPayloadFor(this.view.capacity);
    this.w = Atomics.load(this.view.ctrl, CTRL.WRITE);
    this.published = this.w;
    this.seq = Atomics.load(this.view.ctrl, CTRL.RECORDS) >>> 0;
    this.publishedSeq = this.seq;
  }

  /** Writes and publishes one record. Returns false if the ring is full right now. */
  tryWrite(payload: Uint8Array): boolean {
    if (!this.tryStage(payload)) return false;
    this.publish();
    return true;
  }

  /**
   * Writes one record without publishing it. Returns false if the ring is full.
   * Throws GW_ERR_RING_RECORD_TOO_LARGE or GW_ERR_RING_CLOSED.
   */
  tryStage(payload: Uint8Array): boolean {
    const len = payload.length;
    if (len === 0) throw new RangeError("ring records must not be empty (length 0 marks corruption)");
    this.assertFits(len);
    const { ctrl, capacity } = this.view;
    const rec = recordBytes(len);
    if ((closedBits(ctrl) & CLOSED_CONSUMER) !== 0) {
      throw new GatewayError("GW_ERR_RING_CLOSED", "ring is closed: the other side has gone away; retry once the worker is back");
    }
    for (;;) {
      const w = this.w;
      const r = Atomics.load(ctrl, CTRL.READ);
      this.lastSeenRead = r;
      if (w >= r) {
        if (w + rec + HEADER_BYTES <= capacity) {
          this.put(w, payload);
          this.w = w + rec;
          return true;
        }
        if (rec < r) {
          this.view.i32[w >> 2] = WRAP_MARKER;
          this.put(0, payload);
          this.w = rec;
          return true;
        }
        if (r !== 0) {
          this.view.i32[w >> 2] = WRAP_MARKER;
          this.w = 0;
          this.publish();
          continue;
        }
        return false;
      }
      if (w + rec < r) {
        this.put(w, payload);
        this.w = w + rec;
        return true;
      }
      return false;
    }
  }

  /** Throws GW_ERR_RING_RECORD_TOO_LARGE if a payload of `len` bytes can never fit this ring. */
  assertFits(len: number): void {
    if (len > this.maxPayload) {
      throw new GatewayError(
        "GW_ERR_RING_RECORD_TOO_LARGE",
        `record of ${len} bytes exceeds this ring's limit of ${this.maxPayload} bytes; send it in parts or raise the ring size`,
        { bytes: len, maxBytes: this.maxPayload },
      );
    }
  }

  /** Publishes every staged record and wakes the consumer if it sleeps. */
  publish(): void {
    const { ctrl } = this.view;
    if (this.w === this.published && this.seq === this.publishedSeq) return;
    this.published = this.w;
    this.publishedSeq = this.seq;
    Atomics.store(ctrl, CTRL.RECORDS, this.seq | 0);
    Atomics.store(ctrl, CTRL.WRITE, this.w);
    wakeIfWaiting(ctrl, CTRL.CONSUMER_WAITING);
  }

  /**
   * Writes one record, sleeping in `Atomics.wait` slices while the ring is full.
   * Worker threads only: the main thread must never block (use MainRingWriter there).
   * Bumps the ring's heartbeat each slice: a producer held back by a slow consumer is alive.
   */
  writeBlocking(payload: Uint8Array, options: BlockingWriteOptions = {}): void {
    if (this.tryWrite(payload)) return;
    if (isMainThread) {
      throw new Error("RingProducer.writeBlocking would block the main thread; use MainRingWriter there");
    }
    const sliceMs = options.sliceMs ?? 250;
    const deadline = performance.now() + (options.timeoutMs ?? Infinity);
    const { ctrl } = this.view;
    for (;;) {
      this.waitForSpaceSync(sliceMs);
      if (this.tryWrite(payload)) return;
      Atomics.add(ctrl, CTRL.HEARTBEAT, 1);
      if (performance.now() >= deadline) {
        throw new GatewayError("GW_ERR_RING_OVERFLOW", `ring stayed full for ${options.timeoutMs} ms: the consumer is not keeping up; retry later`, { waitedMs: options.timeoutMs });
      }
    }
  }

  /**
   * Announces "waiting for space", re-checks, and sleeps with `Atomics.wait` (workers only).
   * Returns at once if the consumer has moved since the last failed attempt.
   */
  waitForSpaceSync(timeoutMs: number): WaitOutcome {
    const { ctrl } = this.view;
    if (!this.announceWait()) return "not-equal";
    Atomics.add(ctrl, CTRL.FULL_WAITS, 1);
    const outcome = Atomics.wait(ctrl, CTRL.PRODUCER_WAITING, 1, timeoutMs);
    Atomics.store(ctrl, CTRL.PRODUCER_WAITING, 0);
    return outcome;
  }

  /** Same as waitForSpaceSync but never blocks: for the main thread. */
  async waitForSpaceAsync(timeoutMs: number, keepAlive = true): Promise<WaitOutcome> {
    const { ctrl } = this.view;
    if (!this.announceWait()) return "not-equal";
    Atomics.add(ctrl, CTRL.FULL_WAITS, 1);
    const outcome = await waitAsyncOn(ctrl, CTRL.PRODUCER_WAITING, 1, timeoutMs, keepAlive);
    Atomics.store(ctrl, CTRL.PRODUCER_WAITING, 0);
    return outcome;
  }

  /** True once the consumer side has closed the ring. */
  get closed(): boolean {
    return (closedBits(this.view.ctrl) & CLOSED_CONSUMER) !== 0;
  }

  /** Sets the flag, then re-checks (read moved? closed?) so a wake-up in between is not lost. */
  private announceWait(): boolean {
    const { ctrl } = this.view;
    Atomics.store(ctrl, CTRL.PRODUCER_WAITING, 1);
    if (Atomics.load(ctrl, CTRL.READ) !== this.lastSeenRead || this.lastSeenRead < 0 || (closedBits(ctrl) & CLOSED_CONSUMER) !== 0) {
      Atomics.store(ctrl, CTRL.PRODUCER_WAITING, 0);
      return false;
    }
    return true;
  }

  private put(at: number, payload: Uint8Array): void {
    const { i32, u8 } = this.view;
    this.seq = (this.seq + 1) >>> 0;
    i32[at >> 2] = payload.length;
    i32[(at >> 2) + 1] = this.seq | 0;
    u8.set(payload, at + HEADER_BYTES);
  }
}
