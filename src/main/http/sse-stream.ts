/**
 * A Server-Sent Events writer over a uWS response (uWebSockets.js `ServerSentEvents.js` and
 * `Backpressure.js`, plus what they leave out).
 *
 *   send() ─ blocked or queue non-empty? ─ yes ─▶ queue (bounded; past the limit: close)
 *                    │ no
 *                    ▼
 *            cork { res.write(frame) } ─ false ─▶ blocked (uWS buffered that frame)
 *
 *   onWritable ─ cork { drain uWS's buffer, write queued frames in order until one
 *                       reports backpressure; pending end() once the queue is empty }
 *
 * Invariants:
 * - Nothing is lost or reordered: `res.write` always takes the whole frame (uWS buffers what
 *   the socket refuses and returns false), and while blocked or queued every later frame goes
 *   behind the queue.
 * - Writes happen outside the request callback, so each is corked (one syscall, and uWS
 *   requires it for late writes).
 * - `onWritable` is registered once, at open. While a handler is registered uWS no longer
 *   drains its own buffer on writable: the handler must write. An empty `cork()` uncorks,
 *   which flushes uWS's buffer, so the handler drains even when this queue is empty.
 *   Backpressure inside a cork is seen one write late (corked writes report success until
 *   the cork buffer flushes); that bounds the overshoot to one frame.
 * - Memory per stream is bounded: uWS's buffer (about one frame past the kernel's) plus this
 *   queue, which may hold `maxQueuedBytes`; a client that does not read past that is cut
 *   (`onCancel("overflow")`) rather than buffered without end.
 * - Client abort (`onAborted`, shared through `trackResponse`) or overflow fires `onCancel`
 *   once and aborts `signal`; `end()` is idempotent and a no-op after either.
 */
import type { HttpResponse } from "uWebSockets.js";
import { trackResponse, type ResponseState } from "./response-state.js";

/** Why a stream stopped before `end()`. */
export type SseCancelReason = "aborted" | "overflow";

/** Options of `SseStream`. */
export interface SseStreamOptions {
  /** Bytes this stream queues while the client is not reading; past it the connection is closed. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Extra response headers (after `Content-Type`, `Cache-Control`, `Connection`). Default none. */
  headers?: Readonly<Record<string, string>>;
  /** Called once if the stream stops before `end()`: the client went away, or it fell `maxQueuedBytes` behind. */
  onCancel?: (reason: SseCancelReason) => void;
}

/** Default `maxQueuedBytes`. */
export const SSE_DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

const NEWLINE = /\r\n|\r|\n/;

function assertField(name: string, value: string): void {
  if (/[\r\n]/.test(value)) throw new Error(`SSE ${name} must not contain a line break`);
}

/** Formats one event: optional `event:`/`id:` lines, one `data:` line per line of `data`, blank line. */
export function formatSseEvent(data: string, event?: string, id?: string): string {
  let out = "";
  if (event !== undefined) {
    assertField("event", event);
    out += `event: ${event}\n`;
  }
  if (id !== undefined) {
    assertField("id", id);
    out += `id: ${id}\n`;
  }
  for (const line of data.split(NEWLINE)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * One SSE response. Construct it synchronously in the uWS request callback (or after
 * `trackResponse(res)` was called there): the headers are written at once, and reach the
 * client with the first event (or `end()`).
 */
export class SseStream {
  readonly #res: HttpResponse;
  readonly #state: ResponseState;
  readonly #max: number;
  readonly #onCancel: ((reason: SseCancelReason) => void) | undefined;
  readonly #controller = new AbortController();
  #queue: string[] = [];
  #head = 0;
  #queuedBytes = 0;
  #blocked = false;
  #endPending = false;
  #closed = false;

  constructor(res: HttpResponse, opts: SseStreamOptions = {}) {
    this.#res = res;
    this.#state = trackResponse(res);
    this.#max = opts.maxQueuedBytes ?? SSE_DEFAULT_MAX_QUEUED_BYTES;
    this.#onCancel = opts.onCancel;
    if (!this.#state.aborted && !this.#state.finished) {
      this.#state.finished = true;
      this.#state.signal.addEventListener("abort", () => this.#cancel("aborted"), { once: true });
      res.cork(() => {
        res
          .writeStatus("200 OK")
          .writeHeader("Content-Type", "text/event-stream; charset=utf-8")
          .writeHeader("Cache-Control", "no-cache")
          .writeHeader("Connection", "keep-alive");
        for (const [k, v] of Object.entries(opts.headers ?? {})) res.writeHeader(k, v);
      });
      res.onWritable(() => this.#onWritable());
    } else {
      this.#closed = true;
      this.#controller.abort(new Error("response no longer writable"));
    }
  }

  /** Aborts when the stream is cancelled (client gone or overflow); not on a normal `end()`. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True after `end()`, a client abort or an overflow: later sends are dropped. */
  get closed(): boolean {
    return this.#closed || this.#endPending;
  }

  /** True from a write that reported backpressure until the socket drained (`onWritable`). */
  get backpressured(): boolean {
    return this.#blocked;
  }

  /** Bytes waiting in this stream's queue (not counting uWS's own buffer). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Sends one event (`data` may span lines). Returns false if the stream is closed. */
  send(data: string, event?: string, id?: string): boolean {
    return this.sendRaw(formatSseEvent(data, event, id));
  }

  /** Sends an already formatted frame (must end with a blank line). Returns false if the stream is closed. */
  sendRaw(frame: string): boolean {
    if (this.closed) return false;
    if (this.#blocked || this.#queue.length > this.#head) {
      this.#enqueue(frame);
      return !this.#closed;
    }
    let ok = true;
    this.#res.cork(() => {
      ok = this.#res.write(frame);
    });
    if (!ok) this.#blocked = true;
    return true;
  }

  /** Ends the response after every queued frame went out. Idempotent; a no-op once cancelled. */
  end(): void {
    if (this.closed) return;
    this.#endPending = true;
    if (!this.#blocked && this.#queue.length === this.#head) this.#finish();
  }

  #enqueue(frame: string): void {
    this.#queue.push(frame);
    this.#queuedBytes += Buffer.byteLength(frame);
    if (this.#queuedBytes > this.#max) {
      this.#cancel("overflow");
      // Force-close: the client is not reading, so a graceful end would only queue more.
      // uWS runs onAborted synchronously; #cancel already ran, so that is a no-op.
      this.#res.close();
    }
  }

  #onWritable(): boolean {
    if (this.#closed) return true;
    this.#blocked = false;
    this.#res.cork(() => {
      while (this.#queue.length > this.#head) {
        const frame = this.#queue[this.#head]!;
        this.#queue[this.#head++] = "";
        this.#queuedBytes -= Buffer.byteLength(frame);
        if (!this.#res.write(frame)) {
          this.#blocked = true;
          break;
        }
      }
    });
    if (this.#queue.length === this.#head) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#endPending && !this.#blocked && this.#queue.length === 0) this.#finish();
    return true;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.cork(() => {
      this.#res.end();
    });
  }

  #cancel(reason: SseCancelReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#controller.abort(new Error(reason === "overflow" ? "SSE client fell too far behind" : "SSE client went away"));
    this.#onCancel?.(reason);
  }
}
