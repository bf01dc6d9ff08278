/**
 * Group commit for the handshake (persist before acknowledging): a `connect` whose pairing
 * state changed answers only once the store's write carrying that state is on disk. Every
 * handshake waiting on the same write is released by it, in the same turn, so their
 * `hello-ok`s go out together. While a socket waits, frames it pipelines behind `connect` are
 * held (bounded) and handled after `hello-ok`, or dropped if the handshake fails.
 */
import type { GatewayContext } from "../gateway-context.js";
import { Phase, type Connection } from "../socket/connection.js";
import { CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER } from "../socket/transport.js";

/**
 * Bench-only switch: `waitForDisk: false` answers before the pairing state is on disk (the
 * behaviour before group commit), as the baseline of bench/device-handshake.ts. Never set by
 * the gateway itself; not reachable from config or environment.
 */
export const handshakeCommit = { waitForDisk: true };

/** Message (and close reason) of a handshake refused because its pairing state was not saved. */
export const STATE_UNSAVED = "pairing state could not be saved; retry";

/** Frames a client may pipeline behind `connect` while it waits; one more closes it (1008). */
const MAX_FRAMES_DURING_COMMIT = 32;

/** Sockets waiting for their pairing write, with the frames they sent meanwhile. */
const committing = new WeakMap<Connection, string[]>();

/** True when `conn` is waiting for its commit: the frame was held (or the socket closed). */
export function holdWhileCommitting(ctx: GatewayContext, conn: Connection, text: string): boolean {
  const queued = committing.get(conn);
  if (queued === undefined) return false;
  if (queued.length >= MAX_FRAMES_DURING_COMMIT) ctx.transport.close(conn, CLOSE_POLICY, "too many requests before hello-ok");
  else queued.push(text);
  return true;
}

/**
 * Calls `answer` once `barrier` (the write carrying the handshake's pairing state) resolved,
 * then hands the held frames to `replay`; `refuse` when the write failed. Nothing is sent to a socket
 * that closed meanwhile.
 */
export function afterCommit(
  ctx: GatewayContext,
  conn: Connection,
  barrier: Promise<void>,
  answer: () => void,
  refuse: () => void,
  replay: (text: string) => void,
): void {
  committing.set(conn, []);
  barrier.then(
    () => {
      const queued = committing.get(conn) ?? [];
      committing.delete(conn);
      if (conn.phase !== Phase.Pending || conn.ws === null) return; // closed while waiting
      try {
        answer();
      } catch (err) {
        ctx.log.error({ connId: conn.connId, err: String(err) }, "handshake answer failed");
        ctx.transport.close(conn, CLOSE_TRY_AGAIN_LATER, STATE_UNSAVED);
        return;
      }
      for (const text of queued) {
        if ((conn.phase as Phase) !== Phase.Ready) break;
        replay(text);
      }
    },
    (err: unknown) => {
      committing.delete(conn);
      ctx.log.warn({ connId: conn.connId, err: String(err) }, "pairing state write failed; handshake refused");
      if (conn.phase !== Phase.Pending || conn.ws === null) return;
      refuse();
    },
  );
}
