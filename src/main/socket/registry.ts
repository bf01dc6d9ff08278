/**
 * Who is connected: every open socket (pending or ready), the ready operators
 * (recipients of must-deliver events, checked for slowness before each one), and
 * per-IP counts of unauthenticated sockets (the pre-auth budget).
 */
import { Phase, type Connection } from "./connection.js";

export class ConnectionRegistry {
  readonly open = new Set<Connection>();
  readonly operators = new Set<Connection>();
  private readonly preAuthByIp = new Map<string, number>();
  private readyCount = 0;

  /** Returns false when the IP is over its pre-auth budget. */
  admitPending(conn: Connection, maxPerIp: number): boolean {
    const ip = conn.info.clientIp;
    const n = this.preAuthByIp.get(ip) ?? 0;
    this.open.add(conn);
    if (n >= maxPerIp) return false;
    this.preAuthByIp.set(ip, n + 1);
    conn.preAuthCounted = true;
    return true;
  }

  /** Ends the pre-auth accounting of a socket (handshake done or socket gone). */
  releasePreAuth(conn: Connection): void {
    if (!conn.preAuthCounted) return;
    conn.preAuthCounted = false;
    const ip = conn.info.clientIp;
    const n = (this.preAuthByIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.preAuthByIp.delete(ip);
    else this.preAuthByIp.set(ip, n);
  }

  markReady(conn: Connection): void {
    this.releasePreAuth(conn);
    conn.phase = Phase.Ready;
    this.readyCount++;
    if (conn.isOperator) this.operators.add(conn);
  }

  remove(conn: Connection): void {
    this.releasePreAuth(conn);
    if (conn.phase === Phase.Ready || conn.phase === Phase.Draining) this.readyCount--;
    conn.phase = Phase.Closed;
    conn.ws = null;
    this.open.delete(conn);
    this.operators.delete(conn);
  }

  get ready(): number {
    return this.readyCount;
  }

  pendingFor(ip: string): number {
    return this.preAuthByIp.get(ip) ?? 0;
  }
}
