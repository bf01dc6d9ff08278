/**
 * Splits an outbound reply into messages of at most `limit` characters (WhatsApp: 4000),
 * preferring a paragraph break, then a line break, then a space in the last part of the
 * window; a run without any falls back to a hard cut. Never splits a surrogate pair.
 */

/** Default WhatsApp text chunk limit. */
export const WHATSAPP_TEXT_CHUNK_LIMIT = 4000;

export function chunkText(text: string, limit: number = WHATSAPP_TEXT_CHUNK_LIMIT): string[] {
  if (limit < 2) throw new RangeError("chunk limit must be at least 2");
  const out: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    // Only accept a break in the second half, so chunks stay reasonably full.
    const floor = Math.floor(limit / 2);
    let cut = -1;
    for (const sep of ["\n\n", "\n", " "]) {
      const at = window.lastIndexOf(sep);
      if (at >= floor) {
        cut = at;
        break;
      }
    }
    let next: number;
    if (cut >= 0) {
      out.push(rest.slice(0, cut).trimEnd());
      next = cut;
      while (next < rest.length && /\s/.test(rest[next] ?? "")) next++;
    } else {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // keep a surrogate pair together
      out.push(rest.slice(0, cut));
      next = cut;
    }
    rest = rest.slice(next);
  }
  if (rest.length > 0 || out.length === 0) out.push(rest);
  return out.filter((c, i) => c.length > 0 || (i === 0 && out.length === 1));
}
