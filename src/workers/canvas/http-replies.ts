/**
 * Small, uniform HTTP answers. Every canvas response is `Cache-Control: no-store` (pages are
 * edited live; a cached copy is always wrong), `X-Content-Type-Options: nosniff` and
 * `Referrer-Policy: no-referrer` (on a non-loopback bind the page URL carries the client's
 * capability; a link to another site must not hand it over in `Referer`).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Headers every canvas response carries. */
export const BASE_HEADERS: Readonly<OutgoingHttpHeaders> = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** Methods the static routes accept. */
export const ALLOWED_METHODS = "GET, HEAD";

/** True for the methods static routes serve. */
export function isReadMethod(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD";
}

/** Sends a complete in-memory body (headers only for HEAD) with an exact Content-Length. */
export function sendBuffer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Buffer,
  extraHeaders: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    ...BASE_HEADERS,
    "Content-Type": contentType,
    "Content-Length": body.length,
    ...extraHeaders,
  });
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** Sends a short plain-text answer. */
export function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  extraHeaders: OutgoingHttpHeaders = {},
): void {
  sendBuffer(req, res, status, "text/plain; charset=utf-8", Buffer.from(text, "utf8"), extraHeaders);
}

/** 404 `not found`. Used for every refused path too, so refusals reveal nothing. */
export function sendNotFound(req: IncomingMessage, res: ServerResponse): void {
  sendText(req, res, 404, "not found");
}

/** 405 with `Allow: GET, HEAD`. */
export function sendMethodNotAllowed(req: IncomingMessage, res: ServerResponse): void {
  sendText(req, res, 405, "method not allowed", { Allow: ALLOWED_METHODS });
}

/** 301 to `location` (same origin, path + query only). */
export function sendRedirect(req: IncomingMessage, res: ServerResponse, location: string): void {
  sendText(req, res, 301, `moved to ${location}`, { Location: location });
}

/** Minimal HTML escaping for text interpolated into generated pages. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
