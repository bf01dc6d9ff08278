/**
 * Bound on calls a client may not make (missing role or scope). A client that keeps sending
 * them is probing or broken; answering each at full speed costs the gateway CPU and log volume
 * for nothing. Each connection has a bucket of `DENIED_CALL_BURST` denials, refilled at one per
 * `DENIED_CALL_REFILL_MS`; the call that finds it empty is answered and the socket closed with
 * 1008 "too many unauthorized requests". A UI that probes a few admin methods at start-up, or a
 * client denied now and then, never gets near it.
 */
import type { Connection } from "../socket/connection.js";

/** Denied calls a connection may make in a burst. */
export const DENIED_CALL_BURST = 20;
/** One denied call is forgiven per this many ms (sustained: 1/s). */
export const DENIED_CALL_REFILL_MS = 1000;
/** Close reason of a connection over the bound. */
export const DENIED_CALL_CLOSE_REASON = "too many unauthorized requests";

/** Takes a token for one denied call; false when the connection is over the bound. */
export function takeDeniedCall(conn: Connection, now: number = Date.now()): boolean {
  const refill = (now - conn.deniedAtMs) / DENIED_CALL_REFILL_MS;
  const tokens = conn.deniedAtMs === 0 ? DENIED_CALL_BURST : Math.min(DENIED_CALL_BURST, conn.deniedTokens + Math.max(0, refill));
  conn.deniedAtMs = now;
  if (tokens < 1) {
    conn.deniedTokens = tokens;
    return false;
  }
  conn.deniedTokens = tokens - 1;
  return true;
}
