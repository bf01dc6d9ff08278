/**
 * Reads a request body under a byte limit (uWebSockets.js `examples/JsonPost.js`, hardened).
 *
 * Rules it follows so callers need not:
 * - `onAborted` is registered (through `trackResponse`) before this returns, i.e. before the
 *   caller's first `await`; `Content-Length` is read from `req` synchronously (uWS requests
 *   are stack-allocated and gone after the callback).
 * - uWS neuters each `onData` chunk when the callback returns, so every chunk is copied.
 * - The promise settles exactly once. Past the limit (announced by `Content-Length` or
 *   counted while streaming) the helper answers the configured 413 itself, once, with
 *   `Connection: close` (the rest of the upload is not read), and rejects with
 *   `HttpBodyError("too-large")`; on client abort it drops what it buffered and rejects with
 *   `HttpBodyError("aborted")`. Either way the response is already dealt with: the caller
 *   must not answer (the dispatcher ignores `HttpBodyError` rejections).
 * - A client that stops sending mid-body is cut by uWS's HTTP idle timeout (10 s), which
 *   surfaces here as an abort.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { trackResponse } from "./response-state.js";

/** Why a body could not be read. The response has been handled either way. */
export class HttpBodyError extends Error {
  readonly reason: "aborted" | "too-large";

  constructor(reason: "aborted" | "too-large", message: string) {
    super(message);
    this.name = "HttpBodyError";
    this.reason = reason;
  }
}

/** The answer sent when a body is over the limit. */
export interface TooLargeAnswer {
  /** Status line. Default `"413 Payload Too Large"`. */
  status?: string;
  /** Content type. Default `"text/plain; charset=utf-8"`. */
  contentType?: string;
  /** Body. Default `"Payload Too Large"`. */
  body?: string;
}

/** Options of `readBody`. */
export interface ReadBodyOptions {
  /** Largest accepted body in bytes (required: every body is bounded). */
  maxBytes: number;
  /** What to answer past the limit (hooks answer `413 {"ok":false,"error":"payload too large"}`, §7.2). Default `413 text/plain "Payload Too Large"`. */
  tooLarge?: TooLargeAnswer;
}

/**
 * Reads the whole body of the request `res`/`req` as one Buffer. Call synchronously in the
 * uWS request callback, before any `await`.
 */
export function readBody(res: HttpResponse, req: HttpRequest, opts: ReadBodyOptions): Promise<Buffer> {
  const state = trackResponse(res);
  const announced = req.getHeader("content-length");
  const max = opts.maxBytes;
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    let settled = false;

    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      chunks = [];
      reject(new HttpBodyError("aborted", "client aborted the request"));
    };
    const tooLarge = (): void => {
      settled = true;
      chunks = [];
      state.signal.removeEventListener("abort", onAbort);
      const a = opts.tooLarge ?? {};
      if (!state.aborted && !state.finished) {
        state.finished = true;
        res.cork(() => {
          res
            .writeStatus(a.status ?? "413 Payload Too Large")
            .writeHeader("Content-Type", a.contentType ?? "text/plain; charset=utf-8")
            .end(a.body ?? "Payload Too Large", true);
        });
      }
      reject(new HttpBodyError("too-large", `request body over ${max} bytes`));
    };

    if (state.aborted) {
      onAbort();
      return;
    }
    state.signal.addEventListener("abort", onAbort, { once: true });
    if (announced !== "" && Number(announced) > max) {
      tooLarge();
      return;
    }
    res.onData((chunk: ArrayBuffer, isLast: boolean) => {
      if (settled) return;
      received += chunk.byteLength;
      if (received > max) {
        tooLarge();
        return;
      }
      // Copy: uWS neuters the ArrayBuffer when this callback returns.
      if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (!isLast) return;
      settled = true;
      state.signal.removeEventListener("abort", onAbort);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      chunks = [];
      resolve(body);
    });
  });
}
