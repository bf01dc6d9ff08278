/**
 * Bearer-token checks for HTTP endpoints (protocol reference §7.2–§7.5).
 *
 * Credentials are read from `req` synchronously (`readBearerCredential`), compared in constant
 * time with `safeEqualSecret` from the WS shared auth (same MAC-then-compare, no length leak),
 * and a failure is answered with the endpoint's 401 shape:
 * - `json` (§7.3–§7.5): `401 {"error":{"message":"Unauthorized","type":"unauthorized"}}`
 * - `text` (§7.2 hooks): `401 text/plain "Unauthorized"`
 *
 * Sources, in order: `Authorization: Bearer <t>` (scheme case-insensitive), then an optional
 * extra header (hooks: `x-clawdbot-token`), then the query string. Tokens in URLs end up in
 * proxy and access logs and browser history, so the query is opt-in: `query: "reject"`
 * (default) refuses a request that carries the query parameter at all, even with a good
 * header, so a client learns to stop; `"accept"` takes it last (the reference's hooks do);
 * `"ignore"` does not look.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { authorizeShared, safeEqualSecret, type ResolvedAuth } from "../auth/shared-auth.js";
import { endOnce, trackResponse } from "./response-state.js";

/** Where the presented token came from. */
export type BearerSource = "authorization" | "header" | "query";

/** What a request presented, copied out of `req`. */
export interface BearerCredential {
  /** The token, or undefined when none was presented. */
  token: string | undefined;
  source: BearerSource | undefined;
  /** True when the URL carried the query parameter (whatever `query` says). */
  inQuery: boolean;
}

/** How a request's credential is read. */
export interface BearerReadOptions {
  /** Extra header name (lower-case) checked after `Authorization`, e.g. `x-clawdbot-token`. Default none. */
  header?: string;
  /** Query parameter name. Default `"token"`. */
  queryParam?: string;
  /** Query-string token: `"reject"` (default) refuses the request, `"accept"` uses it last, `"ignore"` skips it. */
  query?: "reject" | "accept" | "ignore";
}

/** What the presented token must match. */
export type BearerExpectation =
  /** One secret (hooks: `hooks.token`). */
  | { secret: string }
  /** The gateway's shared auth (§7.3: the Bearer value is tried as token and as password; mode `none` passes). */
  | { auth: ResolvedAuth };

/** Options of `requireBearer`. */
export interface BearerAuthOptions extends BearerReadOptions {
  /** Read per request, so a config reload applies without re-mounting. */
  expect: () => BearerExpectation;
  /** 401 shape. Default `"json"`. */
  style?: "json" | "text";
}

const BEARER = /^bearer[ \t]+(\S.*?)[ \t]*$/i;

/** Copies the credential out of `req`. Call synchronously in the request callback. */
export function readBearerCredential(req: HttpRequest, opts: BearerReadOptions = {}): BearerCredential {
  const mode = opts.query ?? "reject";
  const queryToken = mode === "ignore" ? undefined : req.getQuery(opts.queryParam ?? "token");
  const inQuery = queryToken !== undefined;
  const m = BEARER.exec(req.getHeader("authorization"));
  if (m) return { token: m[1], source: "authorization", inQuery };
  if (opts.header !== undefined) {
    const v = req.getHeader(opts.header).trim();
    if (v !== "") return { token: v, source: "header", inQuery };
  }
  if (mode === "accept" && queryToken !== undefined && queryToken !== "") return { token: queryToken, source: "query", inQuery };
  return { token: undefined, source: undefined, inQuery };
}

/** Decides a credential against an expectation, in constant time for the comparison. */
export function checkBearer(cred: BearerCredential, expect: BearerExpectation, query: BearerReadOptions["query"] = "reject"): boolean {
  if (query === "reject" && cred.inQuery) return false;
  if ("secret" in expect) return safeEqualSecret(cred.token, expect.secret);
  const t = cred.token;
  const r = authorizeShared({ auth: expect.auth, connectAuth: t === undefined ? null : { token: t, password: t } });
  return r.ok;
}

const JSON_401 = '{"error":{"message":"Unauthorized","type":"unauthorized"}}';

/** Answers 401 in the given shape (once; no-op if the response is gone). */
export function sendUnauthorized(res: HttpResponse, style: "json" | "text" = "json"): void {
  const state = trackResponse(res);
  if (style === "json") endOnce(res, state, "401 Unauthorized", { "Content-Type": "application/json; charset=utf-8" }, JSON_401);
  else endOnce(res, state, "401 Unauthorized", { "Content-Type": "text/plain; charset=utf-8" }, "Unauthorized");
}

/**
 * Checks the request's bearer token; on failure answers 401 and returns false. Call
 * synchronously in the request callback: `if (!requireBearer(res, req, opts)) return;`.
 */
export function requireBearer(res: HttpResponse, req: HttpRequest, opts: BearerAuthOptions): boolean {
  const cred = readBearerCredential(req, opts);
  if (checkBearer(cred, opts.expect(), opts.query)) return true;
  sendUnauthorized(res, opts.style);
  return false;
}
