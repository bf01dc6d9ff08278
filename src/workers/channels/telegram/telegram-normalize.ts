/**
 * Telegram `Message` → `ChannelInbound` (pure). Only text (or captioned) messages from
 * private chats, groups and supergroups are handed on; everything else is ignored (null).
 */
import type { ChannelInbound } from "../channel-link-protocol.js";

/** The fields of a Bot API `Message` this reads (structurally, so tests can pass plain objects). */
export interface TgMessage {
  message_id: number;
  date: number;
  chat: { id: number; type: string };
  from?: { id: number; username?: string; first_name?: string; last_name?: string; is_bot?: boolean };
  text?: string;
  caption?: string;
  message_thread_id?: number;
  reply_to_message?: { from?: { id: number } };
}

/** True when `text` mentions `@username` as a whole word (case-insensitive). */
export function mentions(text: string, username: string | undefined): boolean {
  if (!username) return false;
  const needle = `@${username.toLowerCase()}`;
  const hay = text.toLowerCase();
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    const after = hay.charAt(i + needle.length);
    if (!/[a-z0-9_]/.test(after)) return true;
  }
  return false;
}

/** Normalises one message, or null when it is not something the agent answers. */
export function normalizeTelegramMessage(m: TgMessage, bot: { id: number; username?: string } | undefined): ChannelInbound | null {
  const text = m.text ?? m.caption;
  if (typeof text !== "string" || text.trim() === "" || !m.from || m.from.is_bot === true) return null;
  const type = m.chat.type;
  if (type !== "private" && type !== "group" && type !== "supergroup") return null;
  const direct = type === "private";
  const name = [m.from.first_name, m.from.last_name].filter(Boolean).join(" ");
  const repliedToBot = bot !== undefined && m.reply_to_message?.from?.id === bot.id;
  const msg: ChannelInbound = {
    messageId: `${m.chat.id}:${m.message_id}`,
    chatId: String(m.chat.id),
    chatType: direct ? "direct" : "group",
    senderId: String(m.from.id),
    text,
    ts: m.date * 1000,
    wasMentioned: direct || repliedToBot || mentions(text, bot?.username),
  };
  if (m.from.username) msg.senderUsername = m.from.username;
  if (name) msg.senderName = name;
  if (m.message_thread_id !== undefined) msg.threadId = String(m.message_thread_id);
  return msg;
}
