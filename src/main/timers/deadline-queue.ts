/**
 * Handshake deadlines without a timer per socket.
 *
 * Every socket gets the same timeout, so deadlines arrive in insertion order: a FIFO
 * is a perfect priority queue here. One timer is armed for the head; entries whose
 * handshake finished are skipped lazily (their `deadline` is reset to 0) instead of
 * being removed, which keeps add and cancel O(1).
 */
export interface HasDeadline {
  deadline: number;
}

export class DeadlineQueue<T extends HasDeadline> {
  private items: T[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onExpire: (item: T) => void) {}

  /** Schedules `item` to expire at `item.deadline` (which must not precede earlier adds). */
  add(item: T): void {
    this.items.push(item);
    if (!this.timer) this.arm();
  }

  /** Cancels lazily: the item is skipped when it reaches the head. */
  cancel(item: T): void {
    item.deadline = 0;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.items = [];
    this.head = 0;
  }

  get pending(): number {
    return this.items.length - this.head;
  }

  private arm(): void {
    while (this.head < this.items.length && this.items[this.head]!.deadline === 0) this.head++;
    this.compact();
    if (this.head >= this.items.length) {
      this.timer = null;
      return;
    }
    const delay = Math.max(0, this.items[this.head]!.deadline - Date.now());
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    const now = Date.now();
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (item.deadline !== 0 && item.deadline > now) break;
      this.head++;
      if (item.deadline !== 0) {
        item.deadline = 0;
        this.onExpire(item);
      }
    }
    this.arm();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
