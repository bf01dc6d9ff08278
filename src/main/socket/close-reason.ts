/** WebSocket close reasons are capped at 123 bytes; the reference truncates to 120 UTF-8 bytes. */
const MAX_REASON_BYTES = 120;

/** Truncates to at most 120 UTF-8 bytes without splitting a code point. */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, "utf8") <= MAX_REASON_BYTES) return reason;
  let out = "";
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > MAX_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}
