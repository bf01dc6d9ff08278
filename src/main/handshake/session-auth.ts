/**
 * How each live session authenticated, so that a credential change ends the sessions it
 * admitted: a new shared secret (`gateway.auth` changed by a config reload) closes every
 * session admitted by the old shared auth; a revoked or rotated device token closes the
 * sessions admitted by that token. Close code 4001 (application range), as the reference.
 *
 * Kept in a WeakMap beside the connection (one small object per session, gone with it)
 * instead of on `Connection`, which stays minimal for 15k-node fleets.
 */
import type { ResolvedAuth } from "../auth/shared-auth.js";
import type { GatewayContext } from "../gateway-context.js";
import { Phase, type Connection } from "../socket/connection.js";

/** Close code for a session whose credential is no longer valid. */
export const CLOSE_AUTH_CHANGED = 4001;

/** What admitted a session: the shared auth (token, password or mode "none"), or a device token. */
export type SessionAuth = { kind: "shared" } | { kind: "device-token"; deviceId: string; role: string };

const SHARED: SessionAuth = { kind: "shared" };
const bySession = new WeakMap<Connection, SessionAuth>();

/** Records what admitted `conn` (called by the handshake when it sends `hello-ok`). */
export function recordSessionAuth(conn: Connection, auth: SessionAuth): void {
  // One shared object for every shared-auth session: at 15k sessions each byte counts.
  bySession.set(conn, auth.kind === "shared" ? SHARED : auth);
}

/** What admitted `conn`, or undefined before `hello-ok`. */
export function sessionAuthOf(conn: Connection): SessionAuth | undefined {
  return bySession.get(conn);
}

/** True when a session admitted under `before` would not be admitted the same way under `after`. */
export function sharedAuthChanged(before: ResolvedAuth, after: ResolvedAuth): boolean {
  return before.mode !== after.mode || before.token !== after.token || before.password !== after.password;
}

function closeWhere(ctx: GatewayContext, reason: string, pred: (auth: SessionAuth, conn: Connection) => boolean): number {
  let n = 0;
  for (const conn of [...ctx.registry.open]) {
    if (conn.phase !== Phase.Ready && conn.phase !== Phase.Draining) continue;
    const auth = bySession.get(conn);
    if (auth === undefined || !pred(auth, conn)) continue;
    ctx.transport.close(conn, CLOSE_AUTH_CHANGED, reason);
    n++;
  }
  if (n > 0) ctx.log.info({ sessions: n, reason }, "closed sessions whose credential changed");
  return n;
}

/** Closes every session admitted by the shared auth (after `gateway.auth` changed). Returns how many. */
export function closeSharedAuthSessions(ctx: GatewayContext): number {
  return closeWhere(ctx, "gateway auth changed", (a) => a.kind === "shared");
}

/**
 * Closes the sessions admitted by the device token of `(deviceId, role)` (after it was revoked
 * or rotated), except `keep` (the caller that just received the rotated token). Returns how many.
 */
export function closeDeviceTokenSessions(ctx: GatewayContext, deviceId: string, role: string, reason: string, keep?: Connection): number {
  return closeWhere(ctx, reason, (a, conn) => a.kind === "device-token" && a.deviceId === deviceId && a.role === role && conn !== keep);
}
