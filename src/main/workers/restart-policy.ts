/**
 * When to restart a crashed worker, and when to give up.
 *
 * Backoff: initialDelayMs * factor^(n-1), capped at maxDelayMs, where n counts
 * consecutive failures; a worker that ran for stableAfterMs before failing starts the
 * count again. Breaker: if maxRestarts restarts already happened within windowMs, the
 * next failure trips it ('broken') instead of restarting: a worker that dies on start
 * must not burn a core and flood the logs forever. Pure logic, clock passed in.
 */

/** Restart tuning. */
export interface RestartPolicyOptions {
  /** First backoff delay in ms. Default 100. */
  initialDelayMs?: number;
  /** Longest backoff delay in ms. Default 30 000. */
  maxDelayMs?: number;
  /** Backoff multiplier per consecutive failure. Default 2. */
  factor?: number;
  /** Restarts allowed within windowMs; the next failure trips the breaker. Default 5. */
  maxRestarts?: number;
  /** Breaker window in ms. Default 60 000. */
  windowMs?: number;
  /** A worker that ran at least this long before failing resets the backoff. Default 10 000. */
  stableAfterMs?: number;
  /** Random extra delay, as a fraction of the delay (0.25 → up to +25 %), still capped at maxDelayMs. Default 0. */
  jitter?: number;
  /** Source of randomness in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
}

/** What to do after a failure. */
export type RestartDecision = { action: "restart"; delayMs: number } | { action: "break"; restartsInWindow: number };

/** Exponential backoff plus a restart-loop breaker (pure; the clock is passed in). */
export class RestartPolicy {
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly factor: number;
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly stableAfterMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private restartTimes: number[] = [];
  private consecutive = 0;

  constructor(options: RestartPolicyOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.maxRestarts = options.maxRestarts ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
    this.jitter = options.jitter ?? 0;
    this.random = options.random ?? Math.random;
  }

  /**
   * Records a failure at `now` (ms) of a worker that had been running for `ranForMs`
   * (0 if it never became ready) and decides.
   */
  onFailure(now: number, ranForMs: number): RestartDecision {
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.windowMs);
    if (this.restartTimes.length >= this.maxRestarts) {
      return { action: "break", restartsInWindow: this.restartTimes.length };
    }
    if (ranForMs >= this.stableAfterMs) this.consecutive = 0;
    this.consecutive++;
    this.restartTimes.push(now);
    const base = this.initialDelayMs * this.factor ** (this.consecutive - 1);
    const delayMs = Math.round(Math.min(this.maxDelayMs, base * (1 + this.jitter * this.random())));
    return { action: "restart", delayMs };
  }

  /** Forgets all history (manual restart after 'broken'). */
  reset(): void {
    this.restartTimes = [];
    this.consecutive = 0;
  }
}
