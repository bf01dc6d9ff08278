/**
 * Rate limit for FAILED auth attempts.
 *
 * One token bucket per client: each failure takes a token, tokens come back one per
 * `refillIntervalMs` up to `burst`. While a client's bucket is empty, `check` says no (the
 * handshake answers without even comparing secrets). Successes neither take nor give tokens, so
 * interleaving a valid credential cannot reset a guessing run. Loopback has no bucket (a fleet
 * behind an SSH tunnel or `tailscale serve` shares 127.0.0.1 and must never be locked out);
 * it is throttled by escalating delay instead (`auth-throttle.ts`, through `attempt`).
 *
 * IPv6 clients are keyed by their /64 (one host usually owns the whole /64, so per-address
 * keys would be free to rotate). The map is an LRU bounded by `maxEntries`: evicting the least
 * recently seen client forgets its bucket, which is the price of bounded memory under a flood.
 */
import { isIPv6 } from "node:net";
import { canonicalIp, isLoopbackAddress } from "./client-ip.js";
import { AuthThrottle, type AttemptRunner, type AuthThrottleOptions } from "./auth-throttle.js";

/** Message for a rate-limited attempt. */
export const AUTH_RATE_LIMITED_MESSAGE = "unauthorized: too many failed authentication attempts (retry later)";

/** Options of `AuthRateLimiter`. */
export interface AuthRateLimitOptions {
  /** Failures a client may make in a burst. Default `10`. */
  burst?: number;
  /** One failure is forgiven per this many ms (sustained rate). Default `6000` (10/min). */
  refillIntervalMs?: number;
  /** Most clients tracked at once (LRU eviction beyond). Default `10000`. */
  maxEntries?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Escalating delay for loopback failures (see `AuthThrottle` for defaults). */
  loopback?: AuthThrottleOptions;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/** Outcome of `AuthRateLimiter.check`. */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

function expandIPv6(ip: string): string[] {
  const [head = "", tail] = ip.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  return [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
}

/** Bucket key of a client address: IPv4 as is, IPv6 by /64, unparsable → `"unknown"`. */
export function rateLimitKey(ip: string | undefined): string {
  const c = canonicalIp(ip);
  if (c === undefined) return "unknown";
  if (!isIPv6(c)) return c;
  return `${expandIPv6(c).slice(0, 4).join(":")}::/64`;
}

/** Per-client token buckets for failed auth. */
export class AuthRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #burst: number;
  readonly #interval: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #loopback: AuthThrottle;

  constructor(opts: AuthRateLimitOptions = {}) {
    this.#loopback = new AuthThrottle({ now: opts.now, ...opts.loopback });
    this.#burst = opts.burst ?? 10;
    this.#interval = opts.refillIntervalMs ?? 6000;
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** The loopback throttle (failures in its current run, delays). */
  get loopback(): AuthThrottle {
    return this.#loopback;
  }

  /**
   * Runs an auth attempt of this client: at once, except for loopback while it is paying for
   * recent failures (then in turn, or refused with `admitted` false when too many wait).
   */
  attempt(ip: string | undefined, run: AttemptRunner): void {
    if (isLoopbackAddress(ip)) this.#loopback.attempt(run);
    else run(true);
  }

  /** May this client attempt auth now? Loopback: always (see `attempt`). */
  check(ip: string | undefined): RateLimitDecision {
    if (isLoopbackAddress(ip)) return { allowed: true };
    const b = this.#refill(rateLimitKey(ip), false);
    if (b === undefined || b.tokens >= 1) return { allowed: true };
    return { allowed: false, retryAfterMs: Math.ceil((1 - b.tokens) * this.#interval) };
  }

  /** Records a failed attempt (loopback: escalates its delay). */
  recordFailure(ip: string | undefined): void {
    if (isLoopbackAddress(ip)) {
      this.#loopback.recordFailure();
      return;
    }
    const b = this.#refill(rateLimitKey(ip), true);
    if (b !== undefined) b.tokens = Math.max(0, b.tokens - 1);
  }

  #refill(key: string, create: boolean): Bucket | undefined {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (!create) return undefined;
      if (this.#buckets.size >= this.#max) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
      b = { tokens: this.#burst, updatedAtMs: now };
    } else {
      this.#buckets.delete(key);
      b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.updatedAtMs) / this.#interval);
      b.updatedAtMs = now;
      // A full bucket carries no information: forget the client.
      if (!create && b.tokens >= this.#burst) return undefined;
    }
    // Re-insert: Map order is the LRU order (first key = least recently seen).
    this.#buckets.set(key, b);
    return b;
  }
}
