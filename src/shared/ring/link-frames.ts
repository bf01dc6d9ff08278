/**
 * Validation of decoded link frames. The peer runs the same build, so this is a cheap
 * shape check that turns garbage or a version skew into a loud, coded error instead of
 * a `TypeError` deep inside a handler.
 */
import { GatewayError } from "../errors.js";
import type { WireError } from "../errors.js";
import type { LinkFrame } from "./link-types.js";

function isId(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

function isWireError(v: unknown): v is WireError {
  if (typeof v !== "object" || v === null) return false;
  const e = v as { code?: unknown; message?: unknown };
  return typeof e.code === "string" && typeof e.message === "string";
}

function invalid(what: string, value: unknown): GatewayError {
  let shown: string;
  try {
    shown = JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new GatewayError("GW_ERR_PROTO_INVALID_FRAME", `link frame rejected: ${what}: ${shown}; both threads must run the same build`);
}

/** Checks a decoded value is a LinkFrame. Throws GW_ERR_PROTO_INVALID_FRAME otherwise (unknown `type` included). */
export function parseFrame(value: unknown): LinkFrame {
  if (typeof value !== "object" || value === null) throw invalid("not an object", value);
  const f = value as Record<string, unknown>;
  const type = f["type"];
  switch (type) {
    case "req":
      if (isId(f["id"]) && typeof f["method"] === "string") return value as LinkFrame;
      break;
    case "res":
    case "cancel":
      if (isId(f["id"])) return value as LinkFrame;
      break;
    case "err":
      if (isId(f["id"]) && isWireError(f["error"])) return value as LinkFrame;
      break;
    case "event": {
      const ev = f["event"];
      if (typeof ev === "object" && ev !== null && typeof (ev as { type?: unknown }).type === "string") return value as LinkFrame;
      break;
    }
    case "ready":
      if (typeof f["generation"] === "number") return value as LinkFrame;
      break;
    case "stop":
      return value as LinkFrame;
    default:
      throw invalid(`unknown frame type ${JSON.stringify(type)}`, value);
  }
  throw invalid(`malformed "${String(type)}" frame`, value);
}

/** Exhaustiveness guard for switches over a discriminated union. */
export function assertNever(value: never, what: string): never {
  throw invalid(`unhandled ${what}`, value);
}
