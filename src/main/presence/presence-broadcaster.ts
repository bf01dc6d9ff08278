/**
 * Coalesced `presence` broadcasts.
 *
 * The reference broadcast the full presence list on every disconnect, so a storm of N
 * node disconnects became N full-list broadcasts to N clients. Here a change bumps
 * `stateVersion.presence` at once, but broadcasts go out at most once per window
 * (default 100 ms): the first change in a quiet period is sent immediately, later
 * ones in the same window collapse into one trailing broadcast that carries the
 * latest list and version.
 */
export interface PresenceBroadcasterDeps {
  /** Sends the current list (with the current stateVersion). */
  send: () => void;
  windowMs: () => number;
}

export class PresenceBroadcaster {
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Set by stop(): nothing is broadcast after `shutdown` (sockets closing make changes). */
  private stopped = false;

  constructor(private readonly deps: PresenceBroadcasterDeps) {}

  /** Requests a broadcast of the latest presence. */
  request(): void {
    if (this.timer || this.stopped) return;
    const window = this.deps.windowMs();
    const wait = this.lastSentAt + window - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    this.lastSentAt = Date.now();
    this.deps.send();
  }
}
