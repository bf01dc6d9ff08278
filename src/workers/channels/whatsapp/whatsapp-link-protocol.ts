/**
 * Protocol of the supervised WhatsApp account worker over the ring link (types only).
 *
 * One worker per WhatsApp account owns that account's single Baileys socket. Main asks
 * (`send`, `status`, `loginStart`, `loginWait`, `logout`); the worker reports inbound
 * messages, connection state, QR codes and its log lines as events. Baileys (and
 * libsignal, GPL) is loaded only inside this worker, never on the gateway's start-up path.
 */

/** Reconnect backoff of a dropped socket (reference `web.reconnect`). */
export interface WhatsAppReconnectPolicy {
  /** First delay in ms. Default 2000. */
  initialMs?: number;
  /** Multiplier per consecutive failure. Default 1.8. */
  factor?: number;
  /** Random spread, as a fraction of the delay (0.25 = ±25 %). Default 0.25. */
  jitter?: number;
  /** Longest delay in ms. Default 30 000. */
  maxMs?: number;
  /** Consecutive failed attempts before giving up (0 = never give up). Default 12. */
  maxAttempts?: number;
}

/** `workerData` of the WhatsApp worker (structured-cloneable). */
export interface WhatsAppWorkerData {
  /** Account id (`default` unless configured). */
  accountId: string;
  /** Baileys multi-file auth directory, `<credentialsDir>/whatsapp/<accountId>/` by default. */
  authDir: string;
  /** Reconnect backoff. Defaults: see WhatsAppReconnectPolicy. */
  reconnect?: WhatsAppReconnectPolicy;
  /** A "connected" socket with no event for this long is torn down and reconnected, in ms. Default 30 min. */
  idleTimeoutMs?: number;
  /** Lifetime of a login session (QR reuse window), in ms. Default 180 000 (3 min). */
  loginTtlMs?: number;
  /** Longest text of one outbound message; longer replies are split. Default 4000. */
  textChunkLimit?: number;
  /** Largest outbound media (`channels.whatsapp.mediaMaxMb`). Default 50 MB. */
  mediaMaxBytes?: number;
  /** `mediaAllowPrivateNetwork`: a reply's `MEDIA:` URL may be on a private address. Default false. */
  mediaAllowPrivateNetwork?: boolean;
  /** Connect at start when creds exist. Default true (false: wait for loginStart). */
  autoConnect?: boolean;
  /**
   * Module (file URL) exporting `createSocket(opts)` used instead of the Baileys factory.
   * Test-only seam: everything above the socket is the production code. Default: Baileys.
   */
  socketFactoryModule?: string;
  /** Opaque string handed to a substituted factory (e.g. a test channel name). Default undefined. */
  socketFactoryArg?: string;
}

/** Why the last socket closed. */
export interface WhatsAppDisconnect {
  at: number;
  /** Baileys/WA status code (401, 440, 515, 428, …) if known. */
  status: number | null;
  error: string;
  /** True when 401/loggedOut cleared the creds. */
  loggedOut: boolean;
}

/** Runtime snapshot of the account (feeds `channels.status`/`health`). */
export interface WhatsAppState {
  accountId: string;
  /** Creds exist on disk (the reference's `webAuthExists`). */
  linked: boolean;
  /** A socket exists (connecting or open). */
  running: boolean;
  /** The socket is open. */
  connected: boolean;
  reconnectAttempts: number;
  /** Set while waiting for the next reconnect. */
  nextReconnectAt: number | null;
  lastConnectedAt: number | null;
  lastDisconnect: WhatsAppDisconnect | null;
  lastMessageAt: number | null;
  lastEventAt: number | null;
  lastError: string | null;
  /** Reconnecting was given up (440 conflict, 401 logged out, attempts exhausted). */
  stopped: boolean;
  /** Own identity once known. */
  self: { jid: string; e164: string | null } | null;
}

/** A text message received on the account. */
export interface WhatsAppInbound {
  platformMessageId: string;
  /** Sender: E.164 (`+15551234567`) when it is a phone-number JID, else the JID. */
  from: string;
  /** Sender JID as received (participant in groups). */
  fromJid: string;
  /** Chat JID (`…@s.whatsapp.net` for DMs, `…@g.us` for groups). */
  chatId: string;
  isGroup: boolean;
  text: string;
  /** The own account was @-mentioned (or its number appears as `@<digits>`). */
  mentionedSelf: boolean;
  /** Sender's display name if WhatsApp sent one. */
  pushName?: string;
  /** ms epoch of the message. */
  ts: number;
}

/** Params of `send`. */
export interface WhatsAppSendParams {
  /** E.164 number, bare digits, or a JID (user or group). */
  to: string;
  text: string;
  /** One media message instead of text (http(s) URL, file: URL or absolute path); `text` is its caption. */
  media?: string;
  /** WhatsApp video sent as a looping GIF (`send` `gifPlayback`). */
  gifPlayback?: boolean;
  /** `media` came from a model's reply: public http(s) only. */
  mediaUntrusted?: boolean;
  /** Same key twice within this worker's lifetime → sent once (the durable outbox covers restarts). */
  idempotencyKey?: string;
}

/** Result of `send`. */
export interface WhatsAppSendResult {
  /** Id of the last message sent. */
  messageId: string;
  /** Ids of every chunk, in order. */
  messageIds: string[];
  toJid: string;
  chunks: number;
}

/** Params of `loginStart` (`web.login.start`). */
export interface WhatsAppLoginStartParams {
  /** Relink even when creds exist (clears them first). Default false. */
  force?: boolean;
  /** How long to wait for the first QR, in ms; at least 5000. Default 30 000. */
  timeoutMs?: number;
}

/** Result of `loginStart` (the reference's `web.login.start` payload). */
export interface WhatsAppLoginStartResult {
  qrDataUrl?: string;
  /** Raw QR payload (for terminal rendering). */
  qr?: string;
  message: string;
}

/** Result of `loginWait` (the reference's `web.login.wait` payload). */
export interface WhatsAppLoginWaitResult {
  connected: boolean;
  message: string;
}

/** Result of `logout`. */
export interface WhatsAppLogoutResult {
  /** The auth dir existed and was removed. */
  cleared: boolean;
  /** The server was told (socket open at the time). */
  loggedOut: boolean;
}

export type WhatsAppLogLevel = "debug" | "info" | "warn" | "error";

/** What main and the WhatsApp worker exchange over the ring link. */
export interface WhatsAppLinkProtocol {
  worker: {
    requests: {
      /** Sends text over the live socket; NOT_LINKED when there is none. */
      send(p: WhatsAppSendParams): WhatsAppSendResult;
      status(p: Record<string, never>): WhatsAppState;
      loginStart(p: WhatsAppLoginStartParams): WhatsAppLoginStartResult;
      /** Resolves when linked, on failure, or after `timeoutMs` (default 120 000, min 1000). */
      loginWait(p: { timeoutMs?: number }): WhatsAppLoginWaitResult;
      /** Logs out (best effort), closes the socket and deletes the auth dir. */
      logout(p: Record<string, never>): WhatsAppLogoutResult;
    };
    events: never;
  };
  main: {
    requests: Record<string, never>;
    events:
      | ({ type: "inbound" } & WhatsAppInbound)
      | ({ type: "state" } & WhatsAppState)
      | { type: "qr"; qr: string; dataUrl: string }
      | { type: "log"; level: WhatsAppLogLevel; msg: string; fields: Record<string, unknown> };
  };
}
