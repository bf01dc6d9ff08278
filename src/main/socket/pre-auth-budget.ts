/**
 * The pre-auth budget: how many sockets may sit unauthenticated (upgraded, no `hello-ok` yet),
 * per client address and in total.
 *
 * Budgets bound the abuse, never the legitimate load: a new socket is always admitted, and
 * when its address (IPv4 address, IPv6 /64) or the whole gateway is over its bound, the
 * OLDEST unauthenticated socket of that address (resp. of the gateway) is evicted instead. A
 * legitimate client answers the challenge within a round trip, so in a reconnect storm through
 * one address (SSH tunnel, `tailscale serve`, NAT: every client is 127.0.0.1) the oldest
 * pending sockets are the ones that never will — the flood — while the storm, whose sockets
 * each stay pending for milliseconds, is never touched as long as fewer than the budget are in
 * flight at once. The handshake deadline evicts by age as well. Memory held by unauthenticated
 * sockets is therefore at most `maxTotal` × (per-socket cost + the largest partial frame uWS
 * buffers, see `hardPayloadCeiling`).
 *
 * Sets keep insertion order, so the first element of each is its oldest socket; every
 * operation is O(1).
 */
import type { Connection } from "./connection.js";

/** Bounds of the budget. */
export interface PreAuthLimits {
  /** Unauthenticated sockets per address (IPv6: per /64). */
  maxPerIp: number;
  /** Unauthenticated sockets in total. */
  maxTotal: number;
}

/** Default `gateway.preAuth.maxPerIp`. */
export const DEFAULT_PRE_AUTH_MAX_PER_IP = 1024;
/** Default `gateway.preAuth.maxTotal`. */
export const DEFAULT_PRE_AUTH_MAX_TOTAL = 4096;
/** Close reason (with 1013) of an evicted unauthenticated socket. */
export const PRE_AUTH_EVICTED_REASON = "too many unauthenticated connections; retry";
/** Largest frame a socket may send before `hello-ok` (the reference's pre-auth cap). */
export const PRE_AUTH_MAX_PAYLOAD = 64 * 1024;

/** Budget key of a client address (the gateway uses the auth limiter's: IPv6 by /64). */
export type AddressKey = (ip: string) => string;

export class PreAuthBudget {
  readonly #byKey = new Map<string, Set<Connection>>();
  readonly #all = new Set<Connection>();

  /** @param keyOf the budget key of an address; default the address itself. */
  constructor(private readonly keyOf: AddressKey = (ip) => ip) {}

  /** Unauthenticated sockets now. */
  get size(): number {
    return this.#all.size;
  }

  /** Unauthenticated sockets of this client address's key. */
  countFor(ip: string): number {
    return this.#byKey.get(this.keyOf(ip))?.size ?? 0;
  }

  /**
   * Counts `conn` as unauthenticated and returns the sockets to evict to stay within `limits`
   * (already uncounted; the caller closes them). `conn` itself is never among them.
   */
  admit(conn: Connection, limits: PreAuthLimits): Connection[] {
    const key = this.keyOf(conn.info.clientIp);
    let set = this.#byKey.get(key);
    if (set === undefined) {
      set = new Set();
      this.#byKey.set(key, set);
    }
    const evicted: Connection[] = [];
    while (set.size >= Math.max(1, limits.maxPerIp)) evicted.push(this.#evictFirst(set));
    while (this.#all.size >= Math.max(1, limits.maxTotal)) evicted.push(this.#evictFirst(this.#all));
    // The key's set may have been emptied and dropped by the global eviction.
    let own = this.#byKey.get(key);
    if (own === undefined) {
      own = new Set();
      this.#byKey.set(key, own);
    }
    own.add(conn);
    this.#all.add(conn);
    conn.preAuthKey = key;
    return evicted;
  }

  /** Ends the accounting of a socket (handshake done, evicted or gone); idempotent. */
  release(conn: Connection): void {
    const key = conn.preAuthKey;
    if (key === null) return;
    conn.preAuthKey = null;
    this.#all.delete(conn);
    const set = this.#byKey.get(key);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.#byKey.delete(key);
  }

  #evictFirst(set: Set<Connection>): Connection {
    const first = set.values().next().value as Connection;
    this.release(first);
    return first;
  }
}
