/**
 * Splits a reply into platform-sized chunks: at most `limit` UTF-16 units each, cut at the
 * last paragraph break, else line break, else space inside the window, else hard. Never
 * splits a surrogate pair. Empty/whitespace text → no chunks.
 */

/** Text limit per channel (Telegram 4096, WhatsApp 4000). */
export const CHANNEL_TEXT_LIMITS: Readonly<Record<string, number>> = { telegram: 4096, whatsapp: 4000 };

/** Caption limit of a media message per channel; a longer text goes in its own messages. */
export const CHANNEL_CAPTION_LIMITS: Readonly<Record<string, number>> = { telegram: 1024, whatsapp: 1024 };

export function chunkText(text: string, limit: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = Math.max(window.lastIndexOf("\n\n"), -1);
    if (cut < limit / 2) cut = window.lastIndexOf("\n");
    if (cut < limit / 2) cut = window.lastIndexOf(" ");
    if (cut <= 0) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // keep the pair together
    }
    const head = rest.slice(0, cut).trimEnd();
    if (head) out.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}
