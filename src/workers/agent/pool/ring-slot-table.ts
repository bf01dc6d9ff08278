/**
 * How a piscina pool thread gets its ring pair. piscina creates and retires threads on its
 * own, so rings cannot be handed to a thread at spawn time the way the supervised workers
 * get theirs. Instead the host allocates a table up front and passes it to every thread in
 * `workerData` (SharedArrayBuffers are shared, not copied):
 *
 *   claims  Int32Array[n]      0 = free, else owner = threadId   (compare-exchange to claim)
 *   slot i  events  ring       pool thread → host: hello, run, agent events
 *           control ring       host → pool thread: abort
 *
 * A thread claims the first free slot when its module loads and keeps it for its lifetime.
 * When piscina destroys a thread (idle retirement, crash) the host releases the slot; the
 * rings are NOT reset — the host's reader keeps draining what the dead thread published,
 * and the next owner's producer continues from the published write offset (a record the
 * dead thread staged but never published is simply overwritten). So a slot passes from
 * thread to thread without a gap or a stale record.
 */
import { createRingBuffers } from "../../../shared/ring/ring-layout.js";
import type { RingBuffers } from "../../../shared/ring/ring-layout.js";

/** One ring pair. */
export interface RingSlot {
  /** Pool thread → host. */
  events: RingBuffers;
  /** Host → pool thread. */
  control: RingBuffers;
}

/** The shared table (structured-cloneable; the buffers are shared). */
export interface RingSlotTable {
  claims: SharedArrayBuffer;
  slots: RingSlot[];
}

/** Options of `createRingSlotTable`. */
export interface RingSlotTableOptions {
  /** Capacity of each events ring in bytes. Default 1 MiB. */
  eventRingBytes?: number;
  /** Capacity of each control ring in bytes. Default 64 KiB. */
  controlRingBytes?: number;
}

/** Allocates `n` free slots. */
export function createRingSlotTable(n: number, opts: RingSlotTableOptions = {}): RingSlotTable {
  const slots: RingSlot[] = [];
  for (let i = 0; i < n; i++) slots.push({ events: createRingBuffers(opts.eventRingBytes ?? 1 << 20), control: createRingBuffers(opts.controlRingBytes ?? 1 << 16) });
  return { claims: new SharedArrayBuffer(4 * n), slots };
}

/** Claims the first free slot for `owner` (a threadId, never 0). Returns its index, or -1 when all are taken. */
export function claimSlot(table: RingSlotTable, owner: number): number {
  const claims = new Int32Array(table.claims);
  for (let i = 0; i < claims.length; i++) if (Atomics.compareExchange(claims, i, 0, owner) === 0) return i;
  return -1;
}

/** Frees slot `index` if `owner` still holds it. */
export function releaseSlot(table: RingSlotTable, index: number, owner: number): boolean {
  return Atomics.compareExchange(new Int32Array(table.claims), index, owner, 0) === owner;
}

/** Current owner of each slot (0 = free). */
export function slotOwners(table: RingSlotTable): number[] {
  return Array.from(new Int32Array(table.claims), (_, i) => Atomics.load(new Int32Array(table.claims), i));
}
