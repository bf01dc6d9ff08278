/**
 * Protocol between the channels module (main thread) and one channel-account worker over
 * the ring link (types only). Shared by every channel worker: the worker owns the platform
 * connection, normalises inbound messages and sends text; main owns durability (inbound
 * queue, outbox), access control and the hand-off to the agent.
 *
 * Inbound contract: the worker calls `inbound` and acknowledges the platform (Telegram:
 * commits the update offset) only after main answered — main answers once the message is
 * fsync'd in the account's queue (or deliberately dropped). A request that fails crashes the
 * worker; the platform then re-delivers, and main dedupes by `messageId`.
 */

/** A normalised inbound message. */
export interface ChannelInbound {
  /** Platform message id, unique within the account (Telegram: `<chatId>:<message_id>`). */
  messageId: string;
  /** Where a reply goes (Telegram chat id). */
  chatId: string;
  chatType: "direct" | "group";
  /** Sender's platform id (Telegram user id). */
  senderId: string;
  /** Sender's handle without `@`, when known. */
  senderUsername?: string;
  /** Display name, when known. */
  senderName?: string;
  text: string;
  /** Platform timestamp, ms epoch. */
  ts: number;
  /** True when the bot was mentioned (or replied to); always true in direct chats. */
  wasMentioned: boolean;
  /** Forum topic / thread, when the platform has one. */
  threadId?: string;
}

/**
 * `send` parameters: one message. Without `media`, one text chunk (main chunks long texts);
 * with it, one media message (`outbound-media.ts` loads it in the worker) and `text` is its
 * caption (may be empty).
 */
export interface ChannelSendParams {
  to: string;
  text: string;
  threadId?: string;
  /** http(s) URL, file: URL or absolute path. */
  media?: string;
  /** WhatsApp: a video plays as a GIF. */
  gifPlayback?: boolean;
  /** `media` came from a model's reply (`MEDIA:` line): public http(s) only (`MediaLoadOptions.untrusted`). */
  mediaUntrusted?: boolean;
}

/** What a delivered message is known by. */
export interface ChannelSendResult {
  messageId: string;
  chatId: string;
}

/** Result of a `probe` (getMe for Telegram). A failing probe answers `ok:false`. */
export interface ChannelProbe {
  ok: boolean;
  error?: string;
  bot?: { id: number; username?: string };
  elapsedMs: number;
}

/** Runtime fields a worker reports as they change. */
export interface ChannelWorkerState {
  connected?: boolean;
  mode?: "polling" | "webhook";
  bot?: { id: number; username?: string };
  /** WhatsApp: credentials exist on disk. */
  linked?: boolean;
  lastError?: string | null;
  lastDisconnect?: { at: number; error?: string } | null;
}

/** Log levels a worker forwards. */
export type ChannelLogLevel = "debug" | "info" | "warn" | "error";

/** What main and a channel worker exchange. */
export interface ChannelLinkProtocol {
  worker: {
    requests: {
      /** Sends one text or media message. Rejects with the platform's (or the media loader's) error text. */
      send(p: ChannelSendParams): ChannelSendResult;
      /** Checks the credentials against the platform. */
      probe(p: { timeoutMs: number }): ChannelProbe;
      /** Webhook mode: one update received by the gateway's HTTP route (already authenticated). */
      update(p: { update: unknown }): { ok: true };
    };
    events: { type: "noop" };
  };
  main: {
    requests: {
      /** Persists (or drops) one inbound message; see the module comment. */
      inbound(p: ChannelInbound): { accepted: boolean };
    };
    events:
      | { type: "state"; state: ChannelWorkerState }
      | { type: "log"; level: ChannelLogLevel; msg: string; fields: Record<string, unknown> };
  };
}
