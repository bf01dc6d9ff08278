/**
 * Inbound frames after the handshake (§2.12): valid RequestFrame → dispatch; JSON
 * that is not a RequestFrame → `INVALID_REQUEST "invalid request frame: …"` with the
 * frame's id when it has a string one (else "invalid"); non-JSON → logged, ignored.
 */
import { dispatch, type MethodTable } from "../router.js";
import type { GatewayContext } from "../gateway-context.js";
import type { Connection } from "../socket/connection.js";
import { parseRequestFrame } from "../socket/parse-request-frame.js";

export function handleRequestFrame(ctx: GatewayContext, methods: MethodTable, conn: Connection, text: string): void {
  const parsed = parseRequestFrame(text);
  switch (parsed.kind) {
    case "request":
      dispatch(ctx, methods, conn, parsed.frame.id, parsed.frame.method, parsed.frame.params);
      return;
    case "invalid":
      ctx.transport.sendError(conn, parsed.id, { code: "INVALID_REQUEST", message: parsed.message });
      return;
    case "not-json":
      ctx.log.debug({ connId: conn.connId, bytes: text.length }, "ignored non-JSON frame");
  }
}
