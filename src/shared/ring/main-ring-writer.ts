/**
 * Main-thread writer: never blocks, never drops.
 *
 * When the ring is full, records go to a bounded in-memory FIFO (copies: the caller's
 * bytes may be a reused encode buffer). While that FIFO is non-empty every new record
 * queues behind it, so order is kept. A drain loop sleeps with `Atomics.waitAsync` on
 * PRODUCER_WAITING (the consumer notifies after it frees space) and moves queued
 * records into the ring, publishing once per pass. Past the bound, `write` throws
 * GW_ERR_RING_OVERFLOW (UNAVAILABLE, retryable) so the caller can answer its client;
 * every such refusal is counted.
 */
import { GatewayError } from "../errors.js";
import { CTRL } from "./ring-layout.js";
import type { RingBuffers, RingView } from "./ring-layout.js";
import { RingProducer } from "./ring-producer.js";

/** Something records can be written to. */
export interface RecordSink {
  /** Writes one record; throws a GatewayError when it cannot be accepted. */
  write(payload: Uint8Array): void;
}

/** Options of a MainRingWriter. */
export interface MainRingWriterOptions {
  /** Most records waiting in the overflow queue. Default 4096. */
  maxQueuedRecords?: number;
  /** Most bytes waiting in the overflow queue. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** Longest single sleep of the drain loop in ms (re-checks the closed flag). Default 1000. */
  waitSliceMs?: number;
  /**
   * Publish once per event-loop turn (at `setImmediate`) instead of once per record: every
   * record written in the same turn reaches the consumer with one wake-up. A wake-up of a
   * consumer sleeping in `Atomics.waitAsync` is a cross-thread task (tens of µs on both
   * sides), so a producer that emits bursts (a model stream parsed from one socket read)
   * saves most of them, for at most one turn of added latency. Default false.
   */
  coalesce?: boolean;
}

/** Overflow figures for health/status. */
export interface OverflowStats {
  queuedRecords: number;
  queuedBytes: number;
  /** Records that went through the overflow queue. */
  overflowed: number;
  /** Records refused with GW_ERR_RING_OVERFLOW. */
  rejected: number;
}

/** Non-blocking producer for the main thread, with a bounded in-order overflow queue. */
export class MainRingWriter implements RecordSink {
  readonly producer: RingProducer;
  private readonly maxQueuedRecords: number;
  private readonly maxQueuedBytes: number;
  private readonly waitSliceMs: number;
  private queue: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private overflowed = 0;
  private rejected = 0;
  private draining = false;
  private closedReason: GatewayError | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly coalesce: boolean;
  private publishScheduled = false;

  constructor(buffers: RingBuffers | RingView | RingProducer, options: MainRingWriterOptions = {}) {
    this.producer = buffers instanceof RingProducer ? buffers : new RingProducer(buffers);
    this.maxQueuedRecords = options.maxQueuedRecords ?? 4096;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.waitSliceMs = options.waitSliceMs ?? 1000;
    this.coalesce = options.coalesce ?? false;
  }

  /** Writes one record now, or queues it behind earlier ones. Throws GW_ERR_RING_OVERFLOW past the bound. */
  write(payload: Uint8Array): void {
    if (this.closedReason) throw this.closedReason;
    if (this.pending === 0) {
      if (!this.coalesce) {
        if (this.producer.tryWrite(payload)) return;
      } else if (this.producer.tryStage(payload)) {
        this.schedulePublish();
        return;
      } else {
        // Full: what is staged must become visible for the consumer to free space.
        this.producer.publish();
      }
    }
    this.producer.assertFits(payload.length);
    const count = this.pending;
    if (count >= this.maxQueuedRecords || this.queuedBytes + payload.length > this.maxQueuedBytes) {
      this.rejected++;
      throw new GatewayError(
        "GW_ERR_RING_OVERFLOW",
        `worker ring full and ${count} records (${this.queuedBytes} bytes) already queued; the worker is not keeping up, retry later`,
        { queuedRecords: count, queuedBytes: this.queuedBytes },
      );
    }
    this.queue.push(payload.slice());
    this.queuedBytes += payload.length;
    this.overflowed++;
    Atomics.add(this.producer.view.ctrl, CTRL.OVERFLOWS, 1);
    if (!this.draining) void this.drain();
  }

  /** Records waiting in the overflow queue. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Overflow figures. */
  stats(): OverflowStats {
    return { queuedRecords: this.pending, queuedBytes: this.queuedBytes, overflowed: this.overflowed, rejected: this.rejected };
  }

  /** Publishes what is staged and resolves once the overflow queue is empty (at once if it is). */
  whenDrained(): Promise<void> {
    this.producer.publish();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses further writes with `reason` and discards the overflow queue (the consumer is
   * gone). Returns how many queued records were discarded, for the caller to report.
   */
  close(reason: GatewayError): number {
    const discarded = this.pending;
    this.closedReason = reason;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.settleIdle();
    return discarded;
  }

  private schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(this.publishStaged);
  }

  private readonly publishStaged = (): void => {
    this.publishScheduled = false;
    if (!this.closedReason) this.producer.publish();
  };

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending > 0 && !this.closedReason) {
        this.moveQueuedIntoRing();
        if (this.pending === 0 || this.closedReason) break;
        if (this.producer.closed) {
          this.close(new GatewayError("GW_ERR_RING_CLOSED", "ring closed while records were queued for it; retry once the worker is back"));
          break;
        }
        await this.producer.waitForSpaceAsync(this.waitSliceMs);
      }
    } catch (err) {
      this.close(err instanceof GatewayError ? err : new GatewayError("GW_ERR_RING_CLOSED", `ring writer failed: ${String(err)}`, undefined, { cause: err }));
    } finally {
      this.draining = false;
      this.settleIdle();
    }
  }

  private moveQueuedIntoRing(): void {
    let moved = false;
    while (this.head < this.queue.length) {
      const rec = this.queue[this.head] as Uint8Array;
      if (!this.producer.tryStage(rec)) break;
      moved = true;
      this.queuedBytes -= rec.length;
      this.head++;
    }
    if (moved) this.producer.publish();
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private settleIdle(): void {
    if (this.pending !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
