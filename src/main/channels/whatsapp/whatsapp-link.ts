/**
 * A WhatsApp account as the channels module's account runner drives it: the supervised
 * Baileys worker of `WhatsAppAccount` adapted to `AccountLink`.
 *
 * Inbound durability differs from Telegram: Baileys has no delivery offset to commit, so the
 * worker reports messages as events and main persists them on arrival (dedupe by
 * `<chatJid>:<messageId>`); a message that arrives while main is down is what WhatsApp
 * re-delivers on the next connection, or lost.
 */
import type { ChannelInbound } from "../../../workers/channels/channel-link-protocol.js";
import type { WhatsAppInbound } from "../../../workers/channels/whatsapp/whatsapp-link-protocol.js";
import type { CreateAccountLink } from "../account-link.js";
import { WhatsAppAccount, type WhatsAppAccountOptions } from "./whatsapp-account.js";

/** The channel-neutral form of a WhatsApp message (DMs keyed by the sender's E.164). */
export function whatsappInbound(m: WhatsAppInbound): ChannelInbound {
  return {
    messageId: `${m.chatId}:${m.platformMessageId}`,
    chatId: m.chatId,
    chatType: m.isGroup ? "group" : "direct",
    senderId: m.from,
    ...(m.pushName !== undefined ? { senderName: m.pushName } : {}),
    text: m.text,
    ts: m.ts,
    wasMentioned: m.isGroup ? m.mentionedSelf : true,
  };
}

/** Options of a WhatsApp link (an account's auth dir, worker and supervisor settings). */
export type WhatsAppLinkOptions = Omit<WhatsAppAccountOptions, "logger">;

/** A link to a WhatsApp account worker. */
export function whatsappLink(o: WhatsAppLinkOptions): CreateAccountLink {
  return (hooks, log) => {
    const account = new WhatsAppAccount({ ...o, logger: log });
    const sup = account.supervisor;
    account.onInbound(async (m) => {
      try {
        await hooks.inbound(whatsappInbound(m));
      } catch (err) {
        log.warn({ err: String(err), messageId: m.platformMessageId }, "whatsapp inbound not persisted");
      }
    });
    account.onState((s) => {
      hooks.state({
        connected: s.connected,
        linked: s.linked,
        lastError: s.lastError,
        ...(s.lastDisconnect ? { lastDisconnect: { at: s.lastDisconnect.at, error: s.lastDisconnect.error } } : {}),
      });
    });
    return {
      start: () => account.start(),
      stop: (ms) => account.stop(ms),
      getState: () => sup.getState(),
      whenRunning: () => sup.whenRunning(),
      onStateChange: (l) => sup.onStateChange(l),
      terminate: (reason) => account.kill(reason),
      send: async (p) => {
        const r = await account.send({ to: p.to, text: p.text, ...(p.media !== undefined ? { media: p.media } : {}), ...(p.gifPlayback ? { gifPlayback: true } : {}), ...(p.mediaUntrusted ? { mediaUntrusted: true } : {}) });
        return { messageId: r.messageId, chatId: r.toJid };
      },
      probe: async () => {
        const s = await account.status();
        return { ok: s.connected, linked: s.linked, ...(s.self ? { self: s.self } : {}), ...(s.lastError ? { error: s.lastError } : {}) };
      },
      login: { start: (p) => account.loginStart(p), wait: (p) => account.loginWait(p) },
      logout: () => account.logout(),
    };
  };
}
