/**
 * Escalating delay for failed auth from loopback (brute force through the user's own browser:
 * a web page opens sockets to 127.0.0.1, which the token bucket of `AuthRateLimiter` exempts so
 * that a fleet behind an SSH tunnel or `tailscale serve` is never locked out).
 *
 * Every loopback address is one key (127.0.0.0/8 holds 16 M addresses a local attacker could
 * rotate through). While the key has no recent failure, an attempt runs at once: correct logins
 * are never delayed. Each failure makes the key wait `delay(n)` (n = failures in the current
 * run: 250 ms, 500 ms, 1 s, 2 s, 4 s, then 5 s each) before its next attempt is evaluated, and
 * attempts that arrive meanwhile wait their turn one at a time — the result of a guess is only
 * known after its turn, so parallel sockets gain nothing. At most `maxQueued` attempts wait; more
 * are refused at once without looking at their secret. A run is forgotten `forgetAfterMs` after
 * its last failure's wait ended.
 */

/** Options of `AuthThrottle`. */
export interface AuthThrottleOptions {
  /** Wait after the first failure of a run (ms). Default `250`. */
  baseDelayMs?: number;
  /** Longest wait between two evaluated attempts (ms). Default `5000`. */
  maxDelayMs?: number;
  /** Attempts that may wait for their turn; more are refused. Default `16`. */
  maxQueued?: number;
  /** Quiet time after which the failure run is forgotten (ms). Default `60000`. */
  forgetAfterMs?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

/** Called once per attempt: `admitted` false = refused without evaluating the credential. */
export type AttemptRunner = (admitted: boolean) => void;

interface KeyState {
  failures: number;
  /** Epoch ms from which the next attempt may be evaluated. */
  nextAtMs: number;
  queue: AttemptRunner[];
  timer: NodeJS.Timeout | null;
}

/** One throttled key (loopback). */
export class AuthThrottle {
  readonly #base: number;
  readonly #max: number;
  readonly #maxQueued: number;
  readonly #forget: number;
  readonly #now: () => number;
  #state: KeyState | null = null;

  constructor(opts: AuthThrottleOptions = {}) {
    this.#base = opts.baseDelayMs ?? 250;
    this.#max = opts.maxDelayMs ?? 5000;
    this.#maxQueued = opts.maxQueued ?? 16;
    this.#forget = opts.forgetAfterMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Failures in the current run (0 when none or forgotten). */
  get failures(): number {
    const s = this.#live();
    return s === null ? 0 : s.failures;
  }

  /** Wait imposed after the n-th failure of a run. */
  delayFor(n: number): number {
    return Math.min(this.#max, this.#base * 2 ** Math.min(30, Math.max(0, n - 1)));
  }

  /**
   * Runs `run(true)` now (synchronously) when the key may be evaluated, else queues it for its
   * turn, or calls `run(false)` at once when the queue is full. The runner must call
   * `recordFailure` synchronously when the credential it checks is wrong.
   */
  attempt(run: AttemptRunner): void {
    const s = this.#live();
    if (s === null || (s.queue.length === 0 && s.nextAtMs <= this.#now())) {
      run(true);
      return;
    }
    if (s.queue.length >= this.#maxQueued) {
      run(false);
      return;
    }
    s.queue.push(run);
    this.#arm(s);
  }

  /** Records a failed attempt: the next evaluation waits `delayFor(failures)`. */
  recordFailure(): void {
    const now = this.#now();
    const s = this.#live() ?? (this.#state = { failures: 0, nextAtMs: now, queue: [], timer: null });
    s.failures++;
    s.nextAtMs = Math.max(s.nextAtMs, now) + this.delayFor(s.failures);
  }

  /** Cancels timers; queued attempts are refused. */
  close(): void {
    const s = this.#state;
    this.#state = null;
    if (s === null) return;
    if (s.timer !== null) clearTimeout(s.timer);
    for (const run of s.queue.splice(0)) run(false);
  }

  #live(): KeyState | null {
    const s = this.#state;
    if (s === null) return null;
    if (s.queue.length === 0 && s.timer === null && this.#now() >= s.nextAtMs + this.#forget) {
      this.#state = null;
      return null;
    }
    return s;
  }

  #arm(s: KeyState): void {
    if (s.timer !== null) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      this.#drain(s);
    }, Math.max(0, s.nextAtMs - this.#now()));
    s.timer.unref();
  }

  /** Evaluates queued attempts in order while the key is not waiting. */
  #drain(s: KeyState): void {
    while (s.queue.length > 0 && s.nextAtMs <= this.#now()) {
      const run = s.queue.shift();
      run?.(true);
    }
    if (s.queue.length > 0) this.#arm(s);
  }
}
