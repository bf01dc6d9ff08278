/**
 * Per-socket state, reached from a uWS socket as `ws.getUserData().conn`.
 *
 * Kept deliberately small and closure-free: at tens of thousands of sockets every
 * field counts. Handshake deadlines live in one shared queue (see
 * `timers/deadline-queue.ts`), ticks in one shared timer.
 */
import type { WebSocket } from "uWebSockets.js";
import type { ConnectParams } from "../../shared/protocol/generated/types.js";
import type { Role } from "../../shared/protocol/scopes.js";

export enum Phase {
  /** Upgraded, waiting for `connect`. */
  Pending = 0,
  /** `hello-ok` sent. */
  Ready = 1,
  /** Closed: never touch `ws` again. */
  Closed = 2,
  /**
   * Being closed once its backlog drains (slow consumer): unsubscribed from every
   * topic and sent nothing more, so its close frame is not stuck behind the limit.
   */
  Draining = 3,
  /**
   * Unauthenticated and closed by the server (evicted by the pre-auth budget or past its
   * handshake deadline); its close frame waits its turn in `PreAuthCloses`. Its frames are
   * ignored and it is no longer counted against the budget.
   */
  Closing = 4,
}

/** Request headers copied synchronously in the upgrade handler. */
export interface UpgradeInfo {
  remoteAddress: string;
  clientIp: string;
  isLocal: boolean;
  localDirect: boolean;
  host: string;
  forwardedProto: string;
}

/**
 * What uWS stores per socket. This uWS build copies the own properties of the object
 * given to `res.upgrade()` into an object of its own (prototype and identity are
 * lost), so the Connection instance travels wrapped.
 */
export interface SocketData {
  conn: Connection;
}

export class Connection {
  ws: WebSocket<SocketData> | null = null;
  phase: Phase = Phase.Pending;
  /** Budget key (address, IPv6 /64) it is counted under until the handshake ends; null = not counted. */
  preAuthKey: string | null = null;
  /** `connect` arrived (its evaluation may wait for the loopback auth throttle). */
  connectReceived = false;
  /** Deadline of the handshake (epoch ms). */
  deadline = 0;
  role: Role = "operator";
  scopes: string[] = [];
  params: ConnectParams | null = null;
  deviceId: string | undefined = undefined;
  presenceKey: string | undefined = undefined;
  nodeId: string | undefined = undefined;
  connectedAtMs = 0;
  /** Bucket of calls the client may not make (see `auth/denied-call-limit.ts`); 0 = untouched. */
  deniedTokens = 0;
  deniedAtMs = 0;
  /** Close code and reason to send once drained (Phase.Draining) or once its turn comes (Phase.Closing). */
  pendingClose: { code: number; reason: string } | null = null;

  constructor(
    readonly connId: string,
    readonly nonce: string,
    readonly info: UpgradeInfo,
  ) {}

  get isOperator(): boolean {
    return this.role === "operator";
  }
}
