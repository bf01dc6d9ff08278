/**
 * Status code of a Baileys close (`lastDisconnect.error`). Baileys closes with a Boom
 * (`output.statusCode`), but the code can also arrive wrapped (`error.error`, `cause`,
 * `data`), or only in the text ("Stream Errored (restart required)"): all are looked at,
 * depth-bounded, because missing a 515 after pairing leaves a freshly linked account dead.
 */

export const STATUS_LOGGED_OUT = 401;
export const STATUS_CONFLICT = 440;
export const STATUS_RESTART_REQUIRED = 515;

const rec = (v: unknown): Record<string, unknown> | undefined => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);

/** Finds the status code in a disconnect error, or null. */
export function disconnectStatus(err: unknown, depth = 0): number | null {
  const e = rec(err);
  if (!e || depth > 4) return null;
  const direct = num(rec(e.output)?.statusCode) ?? num(e.statusCode) ?? num(e.status) ?? num(rec(e.data)?.statusCode);
  if (direct !== undefined) return direct;
  for (const inner of [e.error, e.cause, e.lastDisconnect, rec(e.lastDisconnect)?.error]) {
    const s = disconnectStatus(inner, depth + 1);
    if (s !== null) return s;
  }
  const message = typeof e.message === "string" ? e.message : "";
  if (/restart required/i.test(message)) return STATUS_RESTART_REQUIRED;
  if (/\bconflict\b/i.test(message)) return STATUS_CONFLICT;
  return null;
}

/** A short human text for a disconnect error. */
export function disconnectText(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 300);
  const e = rec(err);
  if (e && typeof e.message === "string") return e.message.slice(0, 300);
  return err === undefined ? "connection closed" : String(err).slice(0, 300);
}
