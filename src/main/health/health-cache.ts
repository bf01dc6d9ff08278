/**
 * Health snapshot cache (§3.2), built to avoid the reference's O(N²) connect cost.
 *
 * The reference recomputed health and pushed a `health` event to every client after
 * every handshake. Here health is recomputed on a timer and when something real
 * changes (`markDirty`), broadcast only when its content (minus `ts`/`durationMs`)
 * changed, and `health` calls are answered from the pre-serialised snapshot.
 * Refreshes are single-flight.
 */
export interface HealthCacheDeps {
  compute: () => Promise<Record<string, unknown>>;
  /** Called with the new snapshot JSON when its content changed. */
  onChange: (json: string) => void;
  intervalMs: number;
  /** Debounce for markDirty-triggered refreshes. Default 250 ms. */
  dirtyDebounceMs?: number;
}

function contentKey(snapshot: Record<string, unknown>): string {
  const { ts: _ts, durationMs: _d, ...rest } = snapshot;
  return JSON.stringify(rest);
}

export class HealthCache {
  private json = "{}";
  private key = "";
  private inflight: Promise<string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private dirtyTimer: NodeJS.Timeout | null = null;
  private computedAt = 0;

  constructor(private readonly deps: HealthCacheDeps) {}

  /** Starts the periodic refresh and primes the cache. */
  start(): Promise<string> {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.deps.intervalMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.timer = null;
    this.dirtyTimer = null;
  }

  /** Current snapshot as JSON (`{}` before the first refresh). */
  get snapshotJson(): string {
    return this.json;
  }

  get ageMs(): number {
    return this.computedAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.computedAt;
  }

  /** Something health reports changed: refresh soon (debounced). */
  markDirty(): void {
    if (this.dirtyTimer) return;
    this.dirtyTimer = setTimeout(() => {
      this.dirtyTimer = null;
      void this.refresh().catch(() => undefined);
    }, this.deps.dirtyDebounceMs ?? 250);
    this.dirtyTimer.unref();
  }

  /** Recomputes (single-flight) and returns the snapshot JSON. */
  refresh(): Promise<string> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      try {
        const snap = await this.deps.compute();
        const json = JSON.stringify(snap);
        const key = contentKey(snap);
        this.json = json;
        this.computedAt = Date.now();
        if (key !== this.key) {
          this.key = key;
          this.deps.onChange(json);
        }
        return json;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }
}
