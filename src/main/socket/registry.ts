/**
 * Who is connected: every open socket (pending or ready), the ready operators
 * (recipients of must-deliver events, checked for slowness before each one), and the
 * unauthenticated sockets per address and in total (the pre-auth budget).
 */
import { Phase, type Connection } from "./connection.js";
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { PreAuthBudget, type AddressKey, type PreAuthLimits } from "./pre-auth-budget.js";

export class ConnectionRegistry {
  readonly open = new Set<Connection>();
  readonly operators = new Set<Connection>();
  readonly preAuth: PreAuthBudget;
  private readyCount = 0;

  /** @param addressKey the pre-auth budget key of a client address (see PreAuthBudget). */
  constructor(addressKey?: AddressKey) {
    this.preAuth = new PreAuthBudget(addressKey);
  }

  /**
   * Registers a new socket as unauthenticated. Never refuses it: returns the older
   * unauthenticated sockets evicted to stay within `limits` (the caller closes them).
   */
  admitPending(conn: Connection, limits: PreAuthLimits): Connection[] {
    this.open.add(conn);
    return this.preAuth.admit(conn, limits);
  }

  /** Ends the pre-auth accounting of a socket (handshake done or socket gone). */
  releasePreAuth(conn: Connection): void {
    this.preAuth.release(conn);
  }

  markReady(conn: Connection): void {
    this.releasePreAuth(conn);
    conn.phase = Phase.Ready;
    this.readyCount++;
    gatewayMetrics.handshakes++;
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

  /** Unauthenticated sockets counted against this address's budget (IPv6: its /64). */
  pendingFor(ip: string): number {
    return this.preAuth.countFor(ip);
  }
}
