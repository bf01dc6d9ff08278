/** Answers for in-memory assets: status, headers, body; HEAD gets the headers and the exact length. */
import type { HttpResponse } from "uWebSockets.js";
import { isWritable, type ResponseState } from "../http/response-state.js";

/** Headers every asset answer carries. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** Writes one answer (corked; a no-op when the client is gone or it was answered). */
export function sendAsset(res: HttpResponse, state: ResponseState, method: string, status: string, headers: Readonly<Record<string, string>>, body: Buffer | string): void {
  if (!isWritable(state)) return;
  state.finished = true;
  res.cork(() => {
    res.writeStatus(status);
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.writeHeader(k, v);
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    if (method === "HEAD") res.endWithoutBody(Buffer.byteLength(body));
    else res.end(body);
  });
}

/** A short text answer (404, 503, …). */
export function sendText(res: HttpResponse, state: ResponseState, method: string, status: string, text: string, cacheControl: string): void {
  sendAsset(res, state, method, status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": cacheControl }, text);
}
