/**
 * Writes frames to one socket, honouring uWS backpressure.
 *
 * `send()` returning 2 means uWS dropped the frame because the socket is over
 * `maxBackpressure`; a response or unicast must never vanish silently, so such a
 * client is closed as a slow consumer (1008, close frame queued behind its backlog).
 * Every write is corked: most writes happen after an await, outside a uWS callback.
 */
import type { ErrorShape } from "../../shared/errors.js";
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { Phase, type Connection } from "./connection.js";
import { encodeError, encodeOk, encodeOkRaw } from "./frames.js";
import { truncateCloseReason } from "./close-reason.js";

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_SERVICE_RESTART = 1012;
export const CLOSE_TRY_AGAIN_LATER = 1013;

export interface TransportHooks {
  onSlowConsumer: (conn: Connection, what: string) => void;
  /** A socket entered Phase.Draining; arm its drain deadline. */
  onDraining: (conn: Connection) => void;
  /** A send was queued behind a backlog (uWS returned BACKPRESSURE). */
  onBackpressure?: (conn: Connection) => void;
}

export class Transport {
  constructor(private readonly hooks: TransportHooks) {}

  /** Sends a text frame; false when the socket is gone or was closed as slow. */
  sendText(conn: Connection, text: string): boolean {
    const ws = conn.ws;
    if (!ws || conn.phase === Phase.Closed || conn.phase === Phase.Draining || conn.phase === Phase.Closing) return false;
    let result = 1;
    gatewayMetrics.frameOut(text.length);
    ws.cork(() => {
      result = ws.send(text, false);
    });
    if (result === 2) {
      this.hooks.onSlowConsumer(conn, "response");
      return false;
    }
    if (result === 1) this.hooks.onBackpressure?.(conn);
    return true;
  }

  sendOk(conn: Connection, id: string, payload: unknown): boolean {
    return this.sendText(conn, encodeOk(id, payload));
  }

  sendOkRaw(conn: Connection, id: string, payloadJson: string): boolean {
    return this.sendText(conn, encodeOkRaw(id, payloadJson));
  }

  sendError(conn: Connection, id: string, error: ErrorShape, payload?: unknown): boolean {
    return this.sendText(conn, encodeError(id, error, payload));
  }

  /** Closes with a code and a reason truncated to 120 UTF-8 bytes (none when empty). */
  close(conn: Connection, code: number, reason = ""): void {
    const ws = conn.ws;
    if (!ws || conn.phase === Phase.Closed) return;
    ws.cork(() => {
      if (reason) ws.end(code, truncateCloseReason(reason));
      else ws.end(code);
    });
  }

  /**
   * Closes a socket whose send buffer is over the limit. uWS drops a close frame that
   * does not fit under `maxBackpressure` and cuts the TCP stream (the client would see
   * 1006), so the socket is first taken out of every topic and marked Draining; the
   * close frame goes out from `drain` once the backlog is below `flushBelow`, or the
   * socket is cut after the drain deadline (see `expireDraining`).
   */
  closeWhenDrained(conn: Connection, code: number, reason: string, flushBelow: number): void {
    const ws = conn.ws;
    if (!ws || conn.phase === Phase.Closed || conn.phase === Phase.Draining) return;
    gatewayMetrics.slowConsumerCloses++;
    if (ws.getBufferedAmount() < flushBelow) {
      this.close(conn, code, reason);
      return;
    }
    conn.phase = Phase.Draining;
    conn.pendingClose = { code, reason };
    for (const topic of ws.getTopics()) ws.unsubscribe(topic);
    this.hooks.onDraining(conn);
  }

  /** `drain` callback: sends the pending close frame once the backlog is small. */
  onDrain(conn: Connection, flushBelow: number): void {
    const ws = conn.ws;
    if (!ws || conn.phase !== Phase.Draining || !conn.pendingClose) return;
    if (ws.getBufferedAmount() >= flushBelow) return;
    const { code, reason } = conn.pendingClose;
    conn.pendingClose = null;
    conn.phase = Phase.Ready;
    this.close(conn, code, reason);
  }

  /** Cuts a Draining socket that did not drain in time. */
  expireDraining(conn: Connection): void {
    const ws = conn.ws;
    if (!ws || conn.phase !== Phase.Draining) return;
    ws.close();
  }
}
