/**
 * The seam between the channels module and whoever answers inbound messages (the agent).
 *
 * The channels module calls `InboundHandler` once per accepted inbound message (after it is
 * durable in the account's queue and passed access control) and sends the returned
 * `replyText` back to the chat it came from, chunked for the channel. Returning null sends
 * nothing. A handler that throws is logged and treated as null (the message is not retried:
 * the handler may have had side effects).
 *
 * Exactly-once caveat: the handler's result is recorded right after it returns; a gateway
 * killed between the return and that record runs the handler again for that message after
 * restart. A handler that must never run twice dedupes on `messageId`.
 */
import type { ChannelInbound } from "../../workers/channels/channel-link-protocol.js";

/** An accepted inbound message, as handed to the handler. */
export interface InboundMessage extends ChannelInbound {
  channel: string;
  accountId: string;
  /** Session the message belongs to (§10.3): DMs → `agent:main:main`; groups → `agent:main:<channel>:group:<chatId>[:topic:<threadId>]`. */
  sessionKey: string;
  /** Where the reply goes (record as the session's lastChannel/lastTo/lastAccountId). */
  replyTo: { channel: string; accountId: string; to: string };
}

/** What the handler answers. */
export interface InboundReply {
  replyText: string;
}

/** Hands one inbound message to the agent and resolves with the reply text (or null). */
export type InboundHandler = (msg: InboundMessage) => Promise<InboundReply | null>;

/** The session key of an inbound message (default agent `main`, `session.dmScope: "main"`). */
export function inboundSessionKey(channel: string, msg: ChannelInbound, agentId = "main"): string {
  if (msg.chatType === "direct") return `agent:${agentId}:main`;
  const base = `agent:${agentId}:${channel}:group:${msg.chatId}`;
  return msg.threadId !== undefined ? `${base}:topic:${msg.threadId}` : base;
}

/**
 * The session a `send` without `sessionKey` is mirrored into (§3.4 step 4): the key inbound
 * routing gives the same chat. Groups: WhatsApp JIDs ending `@g.us`, negative Telegram chat
 * ids; Telegram `@name` targets are channels; everything else is a direct chat.
 */
export function outboundSessionKey(channel: string, to: string, agentId = "main"): string {
  const group = channel === "whatsapp" ? to.endsWith("@g.us") : /^-\d+$/.test(to);
  if (group) return `agent:${agentId}:${channel}:group:${to}`;
  if (channel === "telegram" && to.startsWith("@")) return `agent:${agentId}:${channel}:channel:${to.toLowerCase()}`;
  return `agent:${agentId}:main`;
}

/**
 * Appends a delivered `send`'s text to a session transcript (§3.4 step 5; the agents
 * runtime's `mirrorDelivery`). Called once per delivered send, never for a replay.
 */
export type SendMirror = (sessionKey: string, text: string) => Promise<void>;

/** Runtime snapshot of one account (`channels.status` AccountSnapshot, `health`). */
export interface AccountSnapshot {
  accountId: string;
  enabled: boolean;
  configured: boolean;
  /** WhatsApp: credentials exist (the reference's "linked"). */
  linked?: boolean;
  running: boolean;
  connected: boolean;
  mode: "polling" | "webhook" | null;
  tokenSource?: string;
  reconnectAttempts: number;
  lastConnectedAt: number | null;
  lastDisconnect: { at: number; error?: string } | null;
  lastMessageAt: number | null;
  lastInboundAt: number | null;
  lastOutboundAt: number | null;
  lastStartAt: number | null;
  lastStopAt: number | null;
  lastError: string | null;
  lastProbeAt: number | null;
  probe?: unknown;
  bot?: { id: number; username?: string };
  dmPolicy: string;
  allowFrom: string[];
  /** Inbound messages persisted but not finished. */
  queueDepth: number;
  /** The account worker's supervisor state. */
  worker: { state: string; generation: number; restarts: number } | null;
}
