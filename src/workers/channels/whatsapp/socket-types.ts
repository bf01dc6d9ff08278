/**
 * The narrow boundary between the WhatsApp worker and Baileys: the slice of the object
 * `makeWASocket` returns that the worker uses. Everything above it (connection
 * handling, reconnects, login, inbound parsing, chunking) is the same code in
 * production and in tests; tests substitute only `createSocket` (see
 * `WhatsAppWorkerData.socketFactoryModule`).
 */

/** A Baileys auth state (`{creds, keys}`), opaque to the worker. */
export interface AuthStateLike {
  creds: unknown;
  keys: unknown;
}

/** The subset of Baileys' `BaileysEventMap` the worker listens to. */
export interface WaSocketEvents {
  "connection.update": {
    connection?: "open" | "connecting" | "close";
    qr?: string;
    isNewLogin?: boolean;
    lastDisconnect?: { error?: unknown; date?: Date };
  };
  "creds.update": unknown;
  "messages.upsert": { messages: WaMessageLike[]; type: string };
}

/** Minimal shape of a Baileys `WAMessage` (proto.IWebMessageInfo) as the worker reads it. */
export interface WaMessageLike {
  key?: { remoteJid?: string | null; fromMe?: boolean | null; id?: string | null; participant?: string | null } | null;
  message?: Record<string, unknown> | null;
  messageTimestamp?: number | bigint | { toNumber(): number } | null;
  pushName?: string | null;
}

/** Baileys' typed event emitter, reduced to what the worker calls. */
export interface WaEventEmitterLike {
  on<K extends keyof WaSocketEvents>(event: K, listener: (arg: WaSocketEvents[K]) => void): void;
  off<K extends keyof WaSocketEvents>(event: K, listener: (arg: WaSocketEvents[K]) => void): void;
}

/** The parts of Baileys' `AnyMessageContent` the worker sends (media as Buffers it loaded). */
export type WaMessageContent =
  | { text: string }
  | { image: Buffer; caption?: string; mimetype?: string }
  | { video: Buffer; caption?: string; mimetype?: string; gifPlayback?: boolean }
  | { audio: Buffer; mimetype?: string; ptt?: boolean }
  | { document: Buffer; mimetype: string; fileName?: string; caption?: string };

/** The object `makeWASocket` returns, reduced to what the worker calls. */
export interface WaSocketLike {
  ev: WaEventEmitterLike;
  user?: { id: string; lid?: string; name?: string } | undefined;
  sendMessage(jid: string, content: WaMessageContent): Promise<{ key?: { id?: string | null } | null } | undefined>;
  logout(msg?: string): Promise<void>;
  end(error: Error | undefined): void;
}

/** What the worker passes to the factory. */
export interface CreateSocketOptions {
  auth: AuthStateLike;
  /** Log sink for the library (debug-level noise is dropped by the worker). */
  log: (level: "debug" | "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) => void;
  /** `WhatsAppWorkerData.socketFactoryArg` (tests). */
  factoryArg?: string;
}

/** The factory seam. */
export type CreateSocket = (opts: CreateSocketOptions) => WaSocketLike | Promise<WaSocketLike>;
