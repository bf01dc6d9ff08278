/**
 * The ordered HTTP mount table (protocol reference §7.1).
 *
 * For each non-upgrade request the gateway tries the mounted entries in order and stops at
 * the first that claims it; nothing claims → 404. Subsystems mount `{stage, path, methods,
 * handler}`; the table keeps them sorted by §7.1 stage (then by mount order inside a stage),
 * so the order on the wire does not depend on which module happened to start first:
 *
 *   probes → hooks → tools → slack → plugins → responses → chat-completions
 *          → a2ui → canvas → control-ui → (404)
 *
 * `probes` (/healthz, /readyz) are this gateway's own and come first: the Control UI at the
 * root base path claims every GET, and a probe must never be shadowed by it.
 *
 * Path claims: `exact` matches one path; `prefix` matches the prefix itself and everything
 * below it (`/hooks` claims `/hooks` and `/hooks/x`, never `/hooksy`); prefix `/` claims all.
 * An entry that claims the path but not the method answers `405` with `Allow` (§7.3–§7.7),
 * which also reproduces §7.1's "Control UI enabled → unclaimed POST gets 405". An entry
 * without `methods` gets every method and checks it itself (hooks check auth first, §7.2).
 *
 * Dispatch: one `app.any("/*")` walks this table, instead of one uWS route per entry. uWS
 * ranks routes by pattern (static segments before parameters before wildcards), not by
 * registration order, so per-entry uWS routes could not express "hooks before the UI's
 * catch-all" without `setYield` chains, and `enabled` (config reload) would need routes
 * that cannot be unregistered. The walk is a few string compares per request:
 * `bench/http-dispatch.ts` (autocannon) measured `GET /healthz` through the dispatcher at the
 * same server CPU per request as a direct `app.get` route (16.8 vs 17.0 µs), and about 1–3 µs
 * more for a path that walks all nine entries of a full §7.1 table (docs/http.md); uWS
 * routes in table order were no cheaper. At that cost the explicit, testable order wins
 * (checked: uWS answers `/healthz` from a `get("/healthz")` registered after `get("/*")`).
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";

/** §7.1 stages in routing order. Entries run in this order, 404 after the last. */
export const HTTP_STAGES = [
  "probes",
  "hooks",
  "tools",
  "slack",
  "plugins",
  "responses",
  "chat-completions",
  "a2ui",
  "canvas",
  "control-ui",
] as const;

/** One §7.1 stage. */
export type HttpStage = (typeof HTTP_STAGES)[number];

/** Upper-case HTTP method an entry claims. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** What the dispatcher already read from `req` (handlers need not read it again). */
export interface RouteMatch {
  /** Upper-case method as sent (`GET`, `POST`, …). */
  method: string;
  /** Path without the query string, as sent (not decoded). */
  path: string;
}

/**
 * A mounted handler. It runs synchronously inside the uWS request callback: it must copy what
 * it needs from `req` before its first `await` and register `onAborted` (or use the helpers
 * in this folder, which do) before returning if it answers later.
 */
export type HttpHandler = (res: HttpResponse, req: HttpRequest, match: RouteMatch) => void | Promise<void>;

/** One entry of the mount table. */
export interface HttpMount {
  /** §7.1 stage; decides the position in the table. */
  stage: HttpStage;
  /** Claimed path: one exact path, or a prefix and everything below it. */
  path: { exact: string } | { prefix: string };
  /** Methods served. Default: any (the handler checks). */
  methods?: readonly HttpMethod[];
  /** Another method on a claimed path: `"405"` answers 405 + `Allow` (§7.3–§7.7); `"next"` does not claim the request (like a uWS `app.get` route). Default `"405"`. */
  otherMethods?: "405" | "next";
  /** Read per request (config reload toggles endpoints); a disabled entry claims nothing. Default: always enabled. */
  enabled?: () => boolean;
  /** Answers the request. */
  handler: HttpHandler;
}

interface Entry {
  mount: HttpMount;
  rank: number;
  seq: number;
  exact: string | null;
  prefix: string | null;
  /** Upper-case methods, or null for any. */
  methods: ReadonlySet<string> | null;
  allow: string;
  passOtherMethods: boolean;
  /** Lookup answers built once per entry (a lookup allocates nothing). */
  hit: Lookup;
  notAllowed: Lookup;
}

/** What a lookup found: an entry to run, a 405 with its `Allow`, or nothing (404). */
export type Lookup = { kind: "handler"; mount: HttpMount } | { kind: "method-not-allowed"; allow: string } | { kind: "none" };

const NONE: Lookup = { kind: "none" };

function normalisePrefix(prefix: string): string {
  if (!prefix.startsWith("/")) throw new Error(`mount prefix must start with "/" (got ${JSON.stringify(prefix)})`);
  // "/hooks/" and "/hooks" claim the same paths; "/" stays "/".
  return prefix.length > 1 && prefix.endsWith("/") ? prefix.replace(/\/+$/, "") || "/" : prefix;
}

/** The ordered table. Mount at start-up; lookups are per request and allocation-free. */
export class HttpMountTable {
  #entries: Entry[] = [];
  #seq = 0;

  /** Adds an entry in its stage, after the entries already mounted in that stage. Returns an unmount function. */
  mount(m: HttpMount): () => void {
    const rank = HTTP_STAGES.indexOf(m.stage);
    if (rank < 0) throw new Error(`unknown HTTP stage ${JSON.stringify(m.stage)}`);
    const exact = "exact" in m.path ? m.path.exact : null;
    if (exact !== null && !exact.startsWith("/")) throw new Error(`mount path must start with "/" (got ${JSON.stringify(exact)})`);
    const prefix = "prefix" in m.path ? normalisePrefix(m.path.prefix) : null;
    const methods = m.methods === undefined ? null : new Set<string>(m.methods);
    const allow = m.methods?.join(", ") ?? "";
    const entry: Entry = {
      mount: m, rank, seq: this.#seq++, exact, prefix, methods, allow, passOtherMethods: m.otherMethods === "next",
      hit: { kind: "handler", mount: m }, notAllowed: { kind: "method-not-allowed", allow },
    };
    this.#entries.push(entry);
    this.#entries.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    return () => {
      this.#entries = this.#entries.filter((e) => e !== entry);
    };
  }

  /** The mounts in dispatch order (for diagnostics and tests). */
  list(): readonly HttpMount[] {
    return this.#entries.map((e) => e.mount);
  }

  /** First entry that claims `path` (enabled ones only); its method decides handler vs 405. */
  lookup(method: string, path: string): Lookup {
    for (const e of this.#entries) {
      if (e.exact !== null) {
        if (path !== e.exact) continue;
      } else if (e.prefix !== "/") {
        const p = e.prefix as string;
        if (!path.startsWith(p) || (path.length > p.length && path.charCodeAt(p.length) !== 47 /* "/" */)) continue;
      }
      if (e.mount.enabled !== undefined && !e.mount.enabled()) continue;
      if (e.methods !== null && !e.methods.has(method)) {
        if (e.passOtherMethods) continue;
        return e.notAllowed;
      }
      return e.hit;
    }
    return NONE;
  }
}
