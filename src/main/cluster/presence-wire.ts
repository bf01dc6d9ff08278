/**
 * Messages on the cluster presence subject (`names.presence`), JSON:
 *
 *   delta {k:"delta", gw, ep, sq, e:[[key, entry], …]}  changed local entries, sq+1
 *   full  {k:"full",  gw, ep, sq, e:[…]}                every local entry at sq
 *   beat  {k:"beat",  gw, ep, sq}                        heartbeat (liveness, seq check)
 *   want  {k:"want",  gw, to}                            asks `to` (null: everyone) for a full
 *
 * `gw` is the sender's gateway id, `ep` its epoch (one per process start), `sq` its
 * delta counter. Decoding checks the shape and drops anything else (a newer or foreign
 * publisher on the same subject must not break the view).
 */
import type { PresenceEntry } from "../../shared/protocol/generated/types.js";

export type PresenceEntries = [string, PresenceEntry][];

export type PresenceMessage =
  | { k: "delta" | "full"; gw: string; ep: string; sq: number; e: PresenceEntries }
  | { k: "beat"; gw: string; ep: string; sq: number }
  | { k: "want"; gw: string; to: string | null };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function entriesOf(v: unknown): PresenceEntries | null {
  if (!Array.isArray(v)) return null;
  for (const pair of v) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") return null;
    const e: unknown = pair[1];
    if (!isObj(e) || typeof e.ts !== "number" || !Number.isFinite(e.ts)) return null;
  }
  return v as PresenceEntries;
}

/** The message, or null when `text` is not one. */
export function decodePresenceMessage(text: string): PresenceMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(m) || typeof m.gw !== "string" || m.gw === "") return null;
  if (m.k === "want") return m.to === null || typeof m.to === "string" ? { k: "want", gw: m.gw, to: m.to } : null;
  if (typeof m.ep !== "string" || typeof m.sq !== "number" || !Number.isInteger(m.sq)) return null;
  if (m.k === "beat") return { k: "beat", gw: m.gw, ep: m.ep, sq: m.sq };
  if (m.k !== "delta" && m.k !== "full") return null;
  const e = entriesOf(m.e);
  return e === null ? null : { k: m.k, gw: m.gw, ep: m.ep, sq: m.sq, e };
}

/** JSON of a message. */
export function encodePresenceMessage(m: PresenceMessage): string {
  return JSON.stringify(m);
}
