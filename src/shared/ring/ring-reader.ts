/**
 * Event-loop-friendly consumer loop: drains a ring in bounded batches and sleeps with
 * `Atomics.waitAsync` when it is empty. Used on the main thread and in workers that
 * have timers or I/O of their own.
 *
 *   loop:  batch (<= 1024 records / 256 KiB / 4 ms) --records?--> setImmediate, loop
 *            |                                          (timers and sockets run
 *            | empty                                     between batches)
 *            v
 *          announce CONSUMER_WAITING, re-check WRITE, waitAsync(flag, idleWaitMs)
 *
 * No polling: an idle reader costs one pending waitAsync. The idle timeout is only a
 * safety net (it re-checks the closed flag); wake-ups come from the producer's notify.
 * While waiting the reader holds a ref'd timer so the process stays alive; `close()`
 * releases it.
 */
import { GatewayError } from "../errors.js";
import { RingConsumer } from "./ring-consumer.js";
import type { BatchLimits, RecordCallback } from "./ring-consumer.js";
import { CTRL } from "./ring-layout.js";
import type { RingBuffers, RingView } from "./ring-layout.js";
import { yieldToEventLoop } from "./ring-wait.js";

/** Options of a RingReader. */
export interface RingReaderOptions extends BatchLimits {
  /** Longest single sleep in ms before re-checking the ring's flags (a safety net: wake-ups come from notify). Default 5000. */
  idleWaitMs?: number;
  /** Keep the process alive while waiting for records. Default true. */
  keepAlive?: boolean;
  /** Receives a failing record callback's error or ring corruption (then the reader stops). Default: rethrown on next tick. */
  onError?: (err: unknown) => void;
}

/** Drives a RingConsumer from the event loop: batches, yields, and sleeps with waitAsync. */
export class RingReader {
  readonly consumer: RingConsumer;
  private readonly onRecord: RecordCallback;
  private readonly limits: BatchLimits;
  private readonly idleWaitMs: number;
  private readonly keepAlive: boolean;
  private readonly onError: (err: unknown) => void;
  private running = false;
  private stopped = false;
  private failed = false;
  private loop: Promise<void> | null = null;

  constructor(buffers: RingBuffers | RingView | RingConsumer, onRecord: RecordCallback, options: RingReaderOptions = {}) {
    this.consumer = buffers instanceof RingConsumer ? buffers : new RingConsumer(buffers);
    this.onRecord = onRecord;
    this.limits = { maxRecords: options.maxRecords ?? 1024, maxBytes: options.maxBytes ?? 256 * 1024, maxMs: options.maxMs ?? 4 };
    this.idleWaitMs = options.idleWaitMs ?? 5000;
    this.keepAlive = options.keepAlive ?? true;
    this.onError =
      options.onError ??
      ((err) => {
        process.nextTick(() => {
          throw err;
        });
      });
  }

  /** Starts the loop. Resolves when the reader is closed, or the producer closed and the ring is drained. */
  start(): Promise<void> {
    if (!this.loop) this.loop = this.run();
    return this.loop;
  }

  /** Stops the loop; records still in the ring stay there (use drainNow first to deliver them). */
  close(): void {
    this.stopped = true;
    // Wake our own pending waitAsync so the loop ends now and releases its ref'd timer.
    const { ctrl } = this.consumer.view;
    Atomics.store(ctrl, CTRL.CONSUMER_WAITING, 0);
    Atomics.notify(ctrl, CTRL.CONSUMER_WAITING);
  }

  /** Synchronously delivers everything already published (e.g. after the producer died). Returns the record count. */
  drainNow(): number {
    let total = 0;
    for (;;) {
      const n = this.readSafely();
      if (n <= 0) return total;
      total += n;
    }
  }

  /** Whether the loop is running. */
  get active(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped) {
        const n = this.readSafely();
        if (n < 0) return;
        if (n > 0) {
          await yieldToEventLoop();
          continue;
        }
        if (this.consumer.producerClosed && this.consumer.isEmpty()) return;
        await this.consumer.waitForData(this.idleWaitMs, this.keepAlive);
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * One batch. Callback errors are reported per record and reading goes on; anything
   * thrown by the ring itself (corruption) is reported once and stops the reader (-1).
   */
  private readSafely(): number {
    if (this.stopped && this.failed) return -1;
    try {
      return this.consumer.readBatch(this.guarded, this.limits);
    } catch (err) {
      this.stopped = true;
      this.failed = true;
      this.onError(err instanceof GatewayError ? err : new GatewayError("GW_ERR_RING_CORRUPT", `ring read failed: ${String(err)}`, undefined, { cause: err }));
      return -1;
    }
  }

  private readonly guarded: RecordCallback = (payload, seq) => {
    try {
      this.onRecord(payload, seq);
    } catch (err) {
      this.onError(err);
    }
  };
}
