/**
 * `agent` / `chat.send` `attachments` (§3.5): `{type?, mimeType?, fileName?, content}` with
 * `content` base64 or a `data:` URL. Images are kept (≤ 5,000,000 bytes decoded each) and go to
 * the model as image blocks after the text; other attachments are dropped, as the reference
 * does. A malformed image attachment is an error naming it (the caller answers
 * INVALID_REQUEST): nothing runs on half of what the client sent.
 */
import type { ImageContent } from "../../shared/store/sessions/transcript-types.js";
import { sniffMime } from "../../workers/channels/outbound-media.js";

/** Largest decoded image (bytes). */
export const MAX_IMAGE_ATTACHMENT_BYTES = 5_000_000;

const DATA_URL = /^data:([^;,]*)(?:;[^,]*)?;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The image blocks of `raw` (undefined or empty → none). Throws `Error` with the reference's kind of message. */
export function imageAttachments(raw: readonly unknown[] | undefined): ImageContent[] {
  const out: ImageContent[] = [];
  for (const [i, a] of (raw ?? []).entries()) {
    const label = isObj(a) && typeof a.fileName === "string" && a.fileName !== "" ? a.fileName : `#${i + 1}`;
    if (!isObj(a) || typeof a.content !== "string") throw new Error(`attachment ${label}: content must be a base64 string or data URL`);
    let data = a.content.trim();
    let mime = typeof a.mimeType === "string" ? a.mimeType.trim().toLowerCase() : "";
    const url = DATA_URL.exec(data);
    if (url) {
      if (mime === "") mime = (url[1] ?? "").toLowerCase();
      data = data.slice(url[0].length);
    }
    data = data.replace(/\s+/g, "");
    if (data.length % 4 !== 0 || !BASE64.test(data)) throw new Error(`attachment ${label}: invalid base64 content`);
    const bytes = (data.length / 4) * 3 - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
    if (mime === "" && a.type === "image") mime = sniffMime(Buffer.from(data.slice(0, 64), "base64")) ?? "";
    if (!mime.startsWith("image/")) continue;
    if (bytes > MAX_IMAGE_ATTACHMENT_BYTES) throw new Error(`attachment ${label}: exceeds size limit (${bytes} > ${MAX_IMAGE_ATTACHMENT_BYTES} bytes)`);
    if (bytes === 0) throw new Error(`attachment ${label}: empty content`);
    out.push({ type: "image", data, mimeType: mime });
  }
  return out;
}
