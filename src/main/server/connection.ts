/**
 * Per-socket state, used as the uWS user data (`WebSocket<Connection>`).
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
  /** Closing or closed: never touch `ws` again. */
  Closed = 2,
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

export class Connection {
  ws: WebSocket<Connection> | null = null;
  phase: Phase = Phase.Pending;
  /** Counted against the pre-auth budget of its IP until the handshake ends. */
  preAuthCounted = false;
  /** Deadline of the handshake (epoch ms). */
  deadline = 0;
  role: Role = "operator";
  scopes: string[] = [];
  params: ConnectParams | null = null;
  deviceId: string | undefined = undefined;
  presenceKey: string | undefined = undefined;
  nodeId: string | undefined = undefined;
  connectedAtMs = 0;

  constructor(
    readonly connId: string,
    readonly nonce: string,
    readonly info: UpgradeInfo,
  ) {}

  get isOperator(): boolean {
    return this.role === "operator";
  }
}
