/**
 * Turns a Baileys `messages.upsert` entry into a WhatsAppInbound, or null when it is
 * not an inbound text message for the agent (own messages, status/broadcast chats,
 * protocol/receipt stubs, media without a caption). Input is from the network: every
 * field is checked before use and the text is bounded.
 */
import type { WhatsAppInbound } from "./whatsapp-link-protocol.js";
import type { WaMessageLike } from "./socket-types.js";

/** Longest inbound text passed on; WhatsApp allows ~65 k, longer is cut. */
export const MAX_INBOUND_TEXT = 65_536;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const rec = (v: unknown): Record<string, unknown> | undefined => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined);

/** Strips the device suffix: `15551234567:12@s.whatsapp.net` → `15551234567@s.whatsapp.net`. */
export function normalizeJid(jid: string): string {
  const at = jid.indexOf("@");
  if (at < 0) return jid;
  const user = jid.slice(0, at).split(":")[0] ?? "";
  return `${user}${jid.slice(at)}`;
}

/** `+<digits>` for a phone-number JID, else null. */
export function jidToE164(jid: string): string | null {
  const m = /^(\d{5,20})(?::\d+)?@s\.whatsapp\.net$/.exec(jid);
  return m ? `+${m[1]}` : null;
}

/** Unwraps ephemeral / view-once / edited envelopes. */
function unwrap(message: Record<string, unknown>): Record<string, unknown> {
  let m = message;
  for (let i = 0; i < 4; i++) {
    const inner =
      rec(rec(m.ephemeralMessage)?.message) ??
      rec(rec(m.viewOnceMessage)?.message) ??
      rec(rec(m.viewOnceMessageV2)?.message) ??
      rec(rec(m.documentWithCaptionMessage)?.message) ??
      rec(rec(m.editedMessage)?.message);
    if (!inner) break;
    m = inner;
  }
  return m;
}

/** Text of a message: conversation, extended text, or a media caption. */
export function extractText(message: Record<string, unknown>): { text: string; contextInfo?: Record<string, unknown> } | null {
  const m = unwrap(message);
  const conversation = str(m.conversation);
  if (conversation) return { text: conversation };
  const ext = rec(m.extendedTextMessage);
  const extText = str(ext?.text);
  if (ext && extText) return { text: extText, contextInfo: rec(ext.contextInfo) };
  for (const kind of ["imageMessage", "videoMessage", "documentMessage"]) {
    const media = rec(m[kind]);
    const caption = str(media?.caption);
    if (media && caption) return { text: caption, contextInfo: rec(media.contextInfo) };
  }
  return null;
}

function timestampMs(ts: WaMessageLike["messageTimestamp"], now: number): number {
  if (typeof ts === "number" && Number.isFinite(ts)) return ts * 1000;
  if (typeof ts === "bigint") return Number(ts) * 1000;
  if (ts && typeof ts === "object" && typeof ts.toNumber === "function") return ts.toNumber() * 1000;
  return now;
}

/** Own identities to match mentions against (`user.id`, `user.lid`), normalised. */
export interface SelfIds {
  jids: string[];
}

/** Parses one upsert entry; null when it is not for the agent. */
export function parseInbound(msg: WaMessageLike, self: SelfIds, now: number = Date.now()): WhatsAppInbound | null {
  const key = msg.key;
  const chatId = str(key?.remoteJid);
  const id = str(key?.id);
  if (!key || !chatId || !id || key.fromMe === true) return null;
  if (chatId === "status@broadcast" || chatId.endsWith("@broadcast") || chatId.endsWith("@newsletter")) return null;
  const message = rec(msg.message);
  if (!message) return null;
  const extracted = extractText(message);
  if (!extracted) return null;
  const isGroup = chatId.endsWith("@g.us");
  const fromJid = isGroup ? str(key.participant) : chatId;
  if (!fromJid) return null;
  const text = extracted.text.length > MAX_INBOUND_TEXT ? extracted.text.slice(0, MAX_INBOUND_TEXT) : extracted.text;
  const mentioned = extracted.contextInfo?.mentionedJid;
  const mentionedJids = Array.isArray(mentioned) ? mentioned.filter((j): j is string => typeof j === "string").map(normalizeJid) : [];
  const selfJids = self.jids.map(normalizeJid);
  const selfUsers = selfJids.map((j) => j.slice(0, j.indexOf("@"))).filter((u) => u.length > 0);
  const mentionedSelf = mentionedJids.some((j) => selfJids.includes(j)) || selfUsers.some((u) => text.includes(`@${u}`));
  const inbound: WhatsAppInbound = {
    platformMessageId: id,
    from: jidToE164(fromJid) ?? normalizeJid(fromJid),
    fromJid,
    chatId,
    isGroup,
    text,
    mentionedSelf,
    ts: timestampMs(msg.messageTimestamp, now),
  };
  const pushName = str(msg.pushName);
  if (pushName) inbound.pushName = pushName.slice(0, 256);
  return inbound;
}

/** `+1 555…`, bare digits or a JID → the JID to send to. Throws on anything else. */
export function toJid(to: string): string {
  const t = to.trim();
  if (/^[^@\s]+@(s\.whatsapp\.net|g\.us|lid)$/.test(t)) return t;
  const digits = t.replace(/^whatsapp:/, "").replace(/[\s()-]/g, "").replace(/^\+/, "");
  if (/^\d{5,20}$/.test(digits)) return `${digits}@s.whatsapp.net`;
  throw new RangeError(`invalid WhatsApp target: ${JSON.stringify(to.slice(0, 64))} (use an E.164 number or a JID)`);
}
