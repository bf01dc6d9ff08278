/**
 * A fake Telegram Bot API on 127.0.0.1:0 for the real grammY client (`client.apiRoot`).
 *
 * Methods: getMe, deleteWebhook, setWebhook, getUpdates (long poll: held until an update is
 * pushed or `timeout` s pass; `offset` confirms earlier updates), sendMessage, and the media
 * methods (sendPhoto, sendDocument, …: multipart uploads, recorded with the file's hash). Like the real
 * server, a second getUpdates for a token while one is held answers the OLDER one with 409
 * ("terminated by other getUpdates request"); a second long poll counts as a conflict. Scripted failures
 * (`failNext`) answer 409/429 with `retry_after`. Counts deliveries of each update and every
 * sent message.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export interface FakeBot {
  id: number;
  username: string;
}

export interface SentMessage {
  token: string;
  chatId: string;
  /** The text, or a media message's caption ("" without one). */
  text: string;
  messageId: number;
  /** Media messages (sendPhoto, sendDocument, …): the method and the uploaded file. */
  media?: SentMedia;
  /** `message_thread_id`, when given. */
  threadId?: number;
  /** performance.now() when the fake received it. */
  at: number;
}

/** An uploaded file as the fake received it (multipart, `attach://` or a direct file part). */
export interface SentMedia {
  method: string;
  fileName: string;
  bytes: number;
  sha256: string;
}

/** The file field of each media method. */
const MEDIA_FIELDS: Readonly<Record<string, string>> = {
  sendPhoto: "photo",
  sendAnimation: "animation",
  sendVideo: "video",
  sendVoice: "voice",
  sendAudio: "audio",
  sendDocument: "document",
};

interface Held {
  res: ServerResponse;
  timer: NodeJS.Timeout;
  limit: number;
  /** Stops counting this poll as live (answered or closed, whichever comes first). */
  release: () => void;
}

interface TokenState {
  bot: FakeBot;
  updates: { update_id: number; message: Record<string, unknown> }[];
  held: Held | null;
  polling: number;
}

/** A message as a test pushes it. */
export interface PushMessage {
  chatId: number;
  chatType?: "private" | "group" | "supergroup";
  fromId: number;
  username?: string;
  text: string;
  replyToBot?: boolean;
}

export class FakeTelegram {
  readonly sent: SentMessage[] = [];
  /** update_id → how many getUpdates answers carried it. */
  readonly deliveries = new Map<number, number>();
  conflicts = 0;
  /** While true, sendMessage is recorded (counted as delivered) but never answered (a lost response). */
  holdSends = false;
  /**
   * How long a getUpdates with `timeout: 0` (grammY's offset commit at stop) is held before
   * its empty answer. A slow-stopping poller: a new one started before it is gone conflicts.
   */
  shortPollMs = 0;
  /** getUpdates long polls (timeout > 0) received so far. */
  longPolls = 0;
  maxConcurrentPollers = 0;
  readonly calls: { method: string; token: string }[] = [];
  #tokens = new Map<string, TokenState>();
  #nextUpdate = 1;
  #nextMessage = 1000;
  #fail: { method: string; status: number; retryAfter?: number; description: string; confirming?: number }[] = [];
  #server = createServer((req, res) => void this.#handle(req, res));
  #sendWaiters: (() => void)[] = [];
  port = 0;

  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const t of this.#tokens.values()) if (t.held) this.#answer(t, []);
    this.#server.closeAllConnections();
    this.#server.close();
  }

  addBot(token: string, bot: FakeBot): void {
    this.#tokens.set(token, { bot, updates: [], held: null, polling: 0 });
  }

  /** Queues a message update; returns its update_id. */
  push(token: string, m: PushMessage): number {
    const t = this.#state(token);
    const update_id = this.#nextUpdate++;
    const message: Record<string, unknown> = {
      message_id: this.#nextMessage++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: m.chatId, type: m.chatType ?? "private" },
      from: { id: m.fromId, is_bot: false, first_name: "User", ...(m.username ? { username: m.username } : {}) },
      text: m.text,
    };
    if (m.replyToBot) message.reply_to_message = { message_id: 1, date: 0, chat: message.chat, from: { id: t.bot.id, is_bot: true, first_name: "bot" } };
    t.updates.push({ update_id, message });
    if (t.held) this.#answer(t, t.updates.slice(0, t.held.limit));
    return update_id;
  }

  /**
   * The next call of `method` fails with `status` (409, 429 with retry_after…). With
   * `confirming` (getUpdates only): the next call whose `offset` confirms that update id,
   * i.e. the poller received it and fails while acknowledging it.
   */
  failNext(method: string, status: number, retryAfter?: number, confirming?: number): void {
    this.#fail.push({ method, status, retryAfter, confirming, description: status === 409 ? "Conflict: terminated by other getUpdates request" : status === 429 ? `Too Many Requests: retry after ${retryAfter ?? 1}` : "Bad Request" });
  }

  /** Resolves once at least `n` messages were sent. */
  async waitSent(n: number, timeoutMs = 30_000): Promise<SentMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent.length < n) {
      if (Date.now() > deadline) throw new Error(`fake telegram: waited for ${n} sent messages, have ${this.sent.length}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.#sendWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.sent;
  }

  /** Updates not yet confirmed by a later getUpdates `offset` (the worker confirms after main persisted or dropped them). */
  unconfirmed(token: string): number {
    return this.#state(token).updates.length;
  }

  /** Pollers holding a getUpdates right now. */
  polling(token: string): number {
    return this.#state(token).polling;
  }

  #state(token: string): TokenState {
    const t = this.#tokens.get(token);
    if (!t) throw new Error("unknown token");
    return t;
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  #answer(t: TokenState, updates: TokenState["updates"]): void {
    const h = t.held;
    if (!h) return;
    t.held = null;
    clearTimeout(h.timer);
    h.release();
    for (const u of updates) this.deliveries.set(u.update_id, (this.deliveries.get(u.update_id) ?? 0) + 1);
    this.#json(h.res, 200, { ok: true, result: updates });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const t = m ? this.#tokens.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !t) return this.#json(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    const token = decodeURIComponent(m[1]!);
    const method = m[2]!;
    this.calls.push({ method, token });
    let body: Record<string, unknown> = {};
    try {
      const raw = Buffer.concat(chunks);
      const type = req.headers["content-type"] ?? "";
      if (type.startsWith("multipart/form-data")) body = multipartBody(raw, type);
      else body = chunks.length ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : {};
    } catch {
      return this.#json(res, 400, { ok: false, error_code: 400, description: "Bad Request: bad body" });
    }
    const fi = this.#fail.findIndex((f) => f.method === method && (f.confirming === undefined || (typeof body.offset === "number" && body.offset > f.confirming)));
    if (fi >= 0) {
      const f = this.#fail.splice(fi, 1)[0]!;
      return this.#json(res, f.status, { ok: false, error_code: f.status, description: f.description, ...(f.retryAfter !== undefined ? { parameters: { retry_after: f.retryAfter } } : {}) });
    }
    switch (method) {
      case "getMe":
        return this.#json(res, 200, { ok: true, result: { id: t.bot.id, is_bot: true, first_name: "Bot", username: t.bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
      case "deleteWebhook":
      case "setWebhook":
        return this.#json(res, 200, { ok: true, result: true });
      case "sendPhoto":
      case "sendAnimation":
      case "sendVideo":
      case "sendVoice":
      case "sendAudio":
      case "sendDocument": {
        const file = body[MEDIA_FIELDS[method]!];
        if (!isUpload(file)) return this.#json(res, 400, { ok: false, error_code: 400, description: `Bad Request: there is no ${MEDIA_FIELDS[method]} in the request` });
        const data = file.data;
        const media: SentMedia = { method, fileName: file.name, bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
        const msg: SentMessage = { token, chatId: String(body.chat_id), text: typeof body.caption === "string" ? body.caption : "", media, messageId: this.#nextMessage++, at: performance.now(), ...threadOf(body) };
        this.sent.push(msg);
        for (const w of this.#sendWaiters.splice(0)) w();
        return this.#json(res, 200, { ok: true, result: { message_id: msg.messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: "private" }, ...(msg.text ? { caption: msg.text } : {}) } });
      }
      case "sendMessage": {
        const msg: SentMessage = { token, chatId: String(body.chat_id), text: String(body.text), messageId: this.#nextMessage++, at: performance.now(), ...threadOf(body) };
        this.sent.push(msg);
        for (const w of this.#sendWaiters.splice(0)) w();
        if (this.holdSends) return;
        return this.#json(res, 200, { ok: true, result: { message_id: msg.messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: "private" }, text: msg.text } });
      }
      case "getUpdates": {
        const offset = typeof body.offset === "number" ? body.offset : 0;
        if (offset > 0) t.updates = t.updates.filter((u) => u.update_id >= offset);
        const limit = typeof body.limit === "number" ? body.limit : 100;
        const timeoutS = typeof body.timeout === "number" ? body.timeout : 0;
        if (timeoutS > 0) this.longPolls++;
        if (t.held) {
          // A long poll arriving while another getUpdates is held is a second poller. A short
          // one (timeout 0) is the offset confirmation a stopping poller sends right after
          // aborting its own long poll (whose close may not have reached us yet): not counted.
          if (timeoutS > 0) this.conflicts++;
          const older = t.held;
          t.held = null;
          clearTimeout(older.timer);
          older.release();
          this.#json(older.res, 409, { ok: false, error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" });
        }
        if (t.updates.length > 0) {
          const out = t.updates.slice(0, limit);
          for (const u of out) this.deliveries.set(u.update_id, (this.deliveries.get(u.update_id) ?? 0) + 1);
          return this.#json(res, 200, { ok: true, result: out });
        }
        const holdMs = timeoutS === 0 ? this.shortPollMs : Math.min(timeoutS, 5) * 1000;
        let live = true;
        const release = (): void => {
          if (live) t.polling--;
          live = false;
        };
        const held: Held = { res, limit, release, timer: setTimeout(() => this.#answer(t, []), holdMs) };
        t.held = held;
        t.polling++;
        this.maxConcurrentPollers = Math.max(this.maxConcurrentPollers, t.polling);
        res.once("close", () => {
          release();
          if (t.held === held) {
            clearTimeout(held.timer);
            t.held = null;
          }
        });
        return;
      }
      default:
        return this.#json(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    }
  }
}

/** A file part of a multipart body. */
export interface UploadedFile {
  name: string;
  data: Buffer;
}

/**
 * A multipart body as the Bot API reads it: text fields as strings, files as
 * `UploadedFile`s; a field `attach://<name>` is the file part `<name>`. Parsed by hand and
 * leniently, like the real server: grammY writes `content-disposition:form-data;name=…`
 * without spaces, which Node 20's `Response.formData()` refuses.
 */
function multipartBody(raw: Buffer, contentType: string): Record<string, unknown> {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (!boundary) throw new Error("no boundary");
  const delimiter = Buffer.from(`--${boundary}`);
  const out: Record<string, unknown> = {};
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === "--") break;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) throw new Error("unterminated part");
    const part = raw.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const headEnd = part.indexOf("\r\n\r\n");
    if (headEnd < 0) throw new Error("part without headers");
    const head = part.subarray(0, headEnd).toString("utf8");
    const data = part.subarray(headEnd + 4);
    // Quoted or bare parameter values (grammY writes `filename=a.png`).
    const param = (key: string): string | undefined => {
      const m = new RegExp(`;\\s*${key}=(?:"([^"]*)"|([^;\\r\\n]*))`, "i").exec(head);
      return m ? (m[1] ?? m[2]!.trim()) : undefined;
    };
    const name = param("name");
    const fileName = param("filename");
    if (name !== undefined) out[name] = fileName !== undefined ? ({ name: fileName, data: Buffer.from(data) } satisfies UploadedFile) : data.toString("utf8");
    at = next;
  }
  for (const [k, v] of Object.entries(out)) if (typeof v === "string" && v.startsWith("attach://")) out[k] = out[v.slice("attach://".length)];
  return out;
}

const isUpload = (v: unknown): v is UploadedFile => typeof v === "object" && v !== null && Buffer.isBuffer((v as UploadedFile).data);

function threadOf(body: Record<string, unknown>): { threadId?: number } {
  const t = body.message_thread_id;
  return typeof t === "number" || typeof t === "string" ? { threadId: Number(t) } : {};
}
