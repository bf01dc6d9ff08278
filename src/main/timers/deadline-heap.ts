/**
 * Deadlines with arbitrary (non-monotonic) expiry times under ONE timer.
 *
 * `DeadlineQueue` is a FIFO because every handshake has the same timeout; node invokes
 * carry their own `timeoutMs`, so a later add can expire first. This is a binary
 * min-heap on `deadline`, each item remembering its slot (`heapIndex`) so a completed
 * item is removed in O(log n) instead of lingering until its deadline (at thousands
 * of invokes per second with 30 s timeouts, lazy deletion would keep ~10⁵ dead
 * entries around).
 *
 *   heap[0] = earliest deadline ── the single timer is armed for it
 *   add:    push + sift up;   re-arm only if the new item became heap[0]
 *   remove: swap with last + sift up/down;  the timer is left alone — if it fires
 *           early it finds nothing due and re-arms for the new head
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Something with a deadline that the heap can find again. */
export interface HeapItem {
  /** Expiry time (epoch ms). */
  deadline: number;
  /** Slot in the heap; -1 when not scheduled. Owned by the heap. */
  heapIndex: number;
}

/** Min-heap of deadlines with one timer for the earliest. */
export class DeadlineHeap<T extends HeapItem> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Deadline the timer is armed for (Infinity when disarmed). */
  private armedFor = Number.POSITIVE_INFINITY;

  /** `onExpire` runs for each item whose deadline has passed, already removed from the heap. */
  constructor(
    private readonly onExpire: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `item` at `item.deadline`. */
  add(item: T): void {
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.siftUp(item.heapIndex);
    if (item.deadline < this.armedFor) this.arm();
  }

  /** Unschedules `item`; a no-op when it is not scheduled. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.heap[i] !== item) return;
    const last = this.heap.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftDown(i);
    this.siftUp(last.heapIndex);
  }

  /** Drops every item and the timer. */
  close(): void {
    for (const item of this.heap) item.heapIndex = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    const head = this.heap[0];
    if (head === undefined) return;
    this.armedFor = head.deadline;
    // setTimeout overflows past 2^31-1 ms (and would fire at once); a far deadline is
    // reached in hops instead.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, head.deadline - this.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (;;) {
      const head = this.heap[0];
      if (head === undefined || head.deadline > now) break;
      this.remove(head);
      this.onExpire(head);
    }
    if (this.timer === null) this.arm();
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const item = h[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as T;
      if (parent.deadline <= item.deadline) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as T).deadline < (h[l] as T).deadline ? r : l;
      const child = h[c] as T;
      if (child.deadline >= item.deadline) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = item;
    item.heapIndex = i;
  }
}
