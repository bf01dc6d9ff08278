/**
 * Serialisation of outbound frames. Frames are built once as strings; broadcast
 * payloads are serialised once per event, never per recipient.
 */
import type { ErrorShape } from "../../shared/errors.js";

export interface StateVersionValue {
  presence: number;
  health: number;
}

/** `{"type":"res","id":…,"ok":true,"payload":…}` */
export function encodeOk(id: string, payload: unknown): string {
  return payload === undefined
    ? `{"type":"res","id":${JSON.stringify(id)},"ok":true}`
    : `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${JSON.stringify(payload)}}`;
}

/** Same as encodeOk for a payload already serialised to JSON (cached snapshots). */
export function encodeOkRaw(id: string, payloadJson: string): string {
  return `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${payloadJson}}`;
}

/** `{"type":"res","id":…,"ok":false,"error":…}` (+ payload when a failure carries one). */
export function encodeError(id: string, error: ErrorShape, payload?: unknown): string {
  const base = `{"type":"res","id":${JSON.stringify(id)},"ok":false`;
  const p = payload === undefined ? "" : `,"payload":${JSON.stringify(payload)}`;
  return `${base}${p},"error":${JSON.stringify(error)}}`;
}

/** An event frame; `seq`/`stateVersion` only on broadcasts. */
export function encodeEvent(event: string, payload: unknown, seq?: number, stateVersion?: StateVersionValue): string {
  return encodeEventRaw(event, payload === undefined ? undefined : JSON.stringify(payload), seq, stateVersion);
}

/** An event frame whose payload is already JSON. */
export function encodeEventRaw(
  event: string,
  payloadJson: string | undefined,
  seq?: number,
  stateVersion?: StateVersionValue,
): string {
  let s = `{"type":"event","event":${JSON.stringify(event)}`;
  if (payloadJson !== undefined) s += `,"payload":${payloadJson}`;
  if (seq !== undefined) s += `,"seq":${seq}`;
  if (stateVersion) s += `,"stateVersion":{"presence":${stateVersion.presence},"health":${stateVersion.health}}`;
  return `${s}}`;
}
