/**
 * Inbound frames after the handshake (§2.12): valid RequestFrame → dispatch; JSON
 * that is not a RequestFrame → `INVALID_REQUEST "invalid request frame: …"` with the
 * frame's id when it has a string one (else "invalid"); non-JSON → logged, ignored.
 */
import { formatValidationErrors, validator } from "../../shared/protocol/validate.js";
import { dispatch } from "../router.js";
import type { GatewayContext } from "../gateway-context.js";
import type { Connection } from "./connection.js";

const validateRequestFrame = validator("RequestFrame");

export function handleRequestFrame(ctx: GatewayContext, conn: Connection, text: string): void {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    ctx.log.debug({ connId: conn.connId, bytes: text.length }, "ignored non-JSON frame");
    return;
  }
  if (!validateRequestFrame(frame)) {
    const rawId = typeof frame === "object" && frame !== null ? (frame as { id?: unknown }).id : undefined;
    const id = typeof rawId === "string" && rawId.length > 0 ? rawId : typeof rawId === "number" ? String(rawId) : "invalid";
    ctx.transport.sendError(conn, id, {
      code: "INVALID_REQUEST",
      message: `invalid request frame: ${formatValidationErrors(validateRequestFrame.errors)}`,
    });
    return;
  }
  dispatch(ctx, conn, frame.id, frame.method, frame.params);
}
