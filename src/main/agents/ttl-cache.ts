/**
 * A bounded map whose entries expire: the idempotency cache of `agent`/`chat.send` (5 min,
 * 1000 entries) and the finished-run cache of `agent.wait` (10 min). Insertion order is age
 * order (a `set` re-inserts), so pruning walks from the front and stops at the first live
 * entry; the oldest entry goes first when the map is full. Reads prune lazily: no timer.
 */
export class TtlCache<V> {
  readonly #map = new Map<string, { value: V; expiresAt: number }>();

  /**
   * @param ttlMs lifetime of an entry from its last `set`
   * @param maxEntries entries kept; the oldest is evicted past it
   * @param now clock (tests). Default `Date.now`.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAt: this.now() + this.ttlMs });
    this.#prune();
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  #prune(): void {
    const t = this.now();
    for (const [k, e] of this.#map) {
      if (this.#map.size <= this.maxEntries && e.expiresAt > t) break;
      this.#map.delete(k);
    }
  }
}
