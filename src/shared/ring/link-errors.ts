/**
 * Errors the link produces. Everything that crosses the link is a GatewayError with a
 * registry code; foreign throwables are wrapped so the peer still gets {code, message}.
 */
import { GatewayError } from "../errors.js";
import type { WireError } from "../errors.js";

/** The caller gave up on a request (AbortSignal). */
export function cancelled(name: string, what: string): GatewayError {
  return new GatewayError("GW_ERR_WORKER_CANCELLED", `${name}: request ${what} was cancelled by the caller`, { worker: name });
}

/** Any throwable as a GatewayError (link-level failures). */
export function wrapError(name: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `${name}: ${e.name}: ${e.message}`, undefined, { cause: err });
}

/** A request handler's failure as the wire record sent back to the caller. */
export function toWireError(name: string, method: string, err: unknown): WireError {
  if (err instanceof GatewayError) return err.toWire();
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: "GW_ERR_PROTO_HANDLER_FAILED", message: `${name}: "${method}" failed: ${e.name}: ${e.message}` };
}
