/**
 * Parses and validates one inbound text frame as a `RequestFrame` — once, for both the
 * handshake's first frame and every later one. The callers differ only in what they do
 * with a failure (§2.11 closes the socket; §2.12 answers `INVALID_REQUEST`).
 */
import { formatValidationErrors, validator } from "../../shared/protocol/validate.js";
import type { RequestFrame } from "../../shared/protocol/generated/types.js";

const validateRequestFrame = validator("RequestFrame");

export type ParsedRequestFrame =
  | { kind: "request"; frame: RequestFrame }
  /** Not JSON at all. */
  | { kind: "not-json" }
  /**
   * JSON but not a RequestFrame: `id` is the frame's own when it has a usable one (a
   * non-empty string, or a number as text), else "invalid"; `message` is the
   * reference's `invalid request frame: …` text.
   */
  | { kind: "invalid"; id: string; message: string };

export function parseRequestFrame(text: string): ParsedRequestFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { kind: "not-json" };
  }
  if (validateRequestFrame(frame)) return { kind: "request", frame };
  const rawId = typeof frame === "object" && frame !== null ? (frame as { id?: unknown }).id : undefined;
  const id = typeof rawId === "string" && rawId.length > 0 ? rawId : typeof rawId === "number" ? String(rawId) : "invalid";
  return { kind: "invalid", id, message: `invalid request frame: ${formatValidationErrors(validateRequestFrame.errors)}` };
}
