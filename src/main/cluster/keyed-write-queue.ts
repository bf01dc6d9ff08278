/**
 * Writes in order per key, with at most `limit` in flight overall.
 *
 *   chains:  key → the promise of its last queued write (a put and the delete that follows
 *            it reach the broker in that order)
 *   slots:   `limit` writes run at once; the rest wait in FIFO order
 *
 * The limit matters at fleet size: a connection storm of thousands of nodes must not fire
 * thousands of JetStream publishes at once — on a busy broker they time out together and
 * are all lost. The wait list is a head-indexed array (no O(n) `shift` per slot).
 */
export class KeyedWriteQueue {
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(
    /** Writes in flight at once. */
    private readonly limit: number,
    /** Told about a write that threw (the queue goes on). */
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  /** Keys with a write queued or running. */
  get size(): number {
    return this.chains.size;
  }

  /** True while a write for `key` is queued or running. */
  has(key: string): boolean {
    return this.chains.has(key);
  }

  /** Queues `op` after the writes already queued for `key`. */
  push(key: string, op: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const run = prev
      .then(async () => {
        await this.acquire();
        try {
          await op();
        } finally {
          this.release();
        }
      })
      .catch((err: unknown) => this.onError(key, err));
    this.chains.set(key, run);
    void run.then(() => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    });
  }

  /** Resolves once nothing is queued or running. */
  async drained(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    if (this.head < this.waiting.length) {
      // The slot passes straight to the next waiter: inFlight stays the same.
      const next = this.waiting[this.head++] as () => void;
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      next();
      return;
    }
    this.inFlight--;
  }
}
