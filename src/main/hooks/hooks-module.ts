/**
 * The `hooks` module: webhooks under `hooks.path` (default `/hooks`) on the gateway port,
 * §7.2, mounted at the `hooks` stage of the HTTP table while `hooks.enabled` (read per
 * request, so a config reload turns them on and off).
 *
 * Request handling, in order:
 *  1. `?token=` in the URL → 400, even with a good header (tokens in URLs end up in proxy
 *     logs and browser history; the reference accepts it, clawgate refuses it).
 *  2. A client whose failed-auth bucket is empty (the WS handshake's `authLimiter`) → 429.
 *  3. Token from `Authorization: Bearer` or `X-Clawdbot-Token`, compared in constant time
 *     with `hooks.token`; missing or wrong → 401 `text/plain "Unauthorized"` (before the
 *     method check) and one failure recorded with the rate limiter.
 *  4. Method ≠ POST → 405 `Allow: POST`. 5. The base path itself → 404.
 *  6. Body ≤ `hooks.maxBodyBytes` (413 JSON otherwise), JSON (empty = `{}`, non-object =
 *     `{}`, invalid → 400 with the parse error).
 *  7. `wake` → system event on the main session (+ heartbeat request for `now`), `agent` →
 *     202 with a runId and `runAgent(request)`, anything else → mappings (explicit, then
 *     presets) or 404.
 *
 * Agent runs are injected (`HooksModuleOptions.runAgent`; the gateway composition passes
 * hook-agent-run.ts on the agents runtime): without one, `/agent` (and agent mappings)
 * answer 503 `{ok:false,error:"agent runs are not available"}` after validation.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { resolveClientIp } from "../auth/client-ip.js";
import { safeEqualSecret } from "../auth/shared-auth.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { readBearerCredential, sendUnauthorized } from "../http/bearer-auth.js";
import { readBody } from "../http/read-body.js";
import { endOnce, trackResponse, type ResponseState } from "../http/response-state.js";
import { MAIN_SESSION_KEY } from "../../shared/store/sessions/sessions-info.js";
import { HOOKS_DISABLED, type ResolvedHooks } from "./hooks-config.js";
import { applyOverrides, effectiveMappings, findMapping, renderMapping, type MappedAction } from "./hook-mappings.js";
import { parseAgent, parseWake, type HookAgentRequest } from "./hook-requests.js";
import type { HookTemplateContext } from "./hook-templates.js";
import type { HookMappingConfig } from "../../shared/config/schema/hooks.js";

export const HOOKS_MODULE = "hooks";

/** What the hooks module is given by the composition. */
export interface HooksModuleOptions {
  /**
   * Starts an isolated agent turn for a hook (`/agent`, agent mappings) and returns at once
   * (the caller already has its 202). The composition wires hook-agent-run.ts; unset → 503.
   */
  runAgent?: (request: HookAgentRequest) => void | Promise<unknown>;
  /** Requests an immediate heartbeat run (`wake` with mode `now`). Unset → the event waits for the next heartbeat. */
  requestHeartbeat?: (reason: string) => void;
}

const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };
const TOO_LARGE = { contentType: "application/json; charset=utf-8", body: '{"ok":false,"error":"payload too large"}' };
const MAX_HEADERS_KEPT = 64;

function notFound(res: HttpResponse, state: ResponseState): void {
  endOnce(res, state, "404 Not Found", { "Content-Type": "text/plain; charset=utf-8" }, "Not Found");
}

function answerJson(res: HttpResponse, state: ResponseState, status: string, body: unknown): void {
  endOnce(res, state, status, JSON_TYPE, JSON.stringify(body));
}

/** Everything read from `req` synchronously (uWS requests are gone after the callback). */
interface HookRequestInfo {
  url: string;
  query: string;
  headers: Record<string, string>;
}

function copyRequest(req: HttpRequest, path: string): HookRequestInfo {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  req.forEach((k, v) => {
    // Credentials never reach templates (a mapping could echo them into a session).
    if (n++ >= MAX_HEADERS_KEPT || k === "authorization" || k === "x-clawdbot-token" || k === "cookie") return;
    headers[k] = v;
  });
  const query = req.getQuery() ?? "";
  return { url: query === "" ? path : `${path}?${query}`, query, headers };
}

/** Loads and caches transform modules, confined to the transforms directory. */
class TransformLoader {
  readonly #cache = new Map<string, Promise<Record<string, unknown>>>();

  async run(dir: string, t: NonNullable<HookMappingConfig["transform"]>, ctx: HookTemplateContext): Promise<unknown> {
    const file = resolve(dir, t.module);
    const rel = relative(dir, file);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new Error(`transform module outside ${dir}`);
    let mod = this.#cache.get(file);
    if (mod === undefined) {
      mod = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
      this.#cache.set(file, mod);
      mod.catch(() => this.#cache.delete(file));
    }
    const fn = (await mod)[t.export ?? "default"];
    if (typeof fn !== "function") throw new Error(`transform ${t.module} has no function export ${t.export ?? "default"}`);
    return await (fn as (c: HookTemplateContext) => unknown)(ctx);
  }
}

/** The hooks module. */
export function hooksModule(opts: HooksModuleOptions = {}): GatewayModuleDef {
  return {
    name: HOOKS_MODULE,
    register(r) {
      const ctx = r.core;
      const hooks = (): ResolvedHooks => ctx.live.current.hooks ?? HOOKS_DISABLED;
      const transforms = new TransformLoader();

      const warnSharedToken = (): void => {
        const h = hooks();
        const a = ctx.live.current.auth;
        if (h.enabled && (safeEqualSecret(h.token, a.token) || safeEqualSecret(h.token, a.password))) {
          ctx.log.warn({ key: "hooks.token" }, "hooks.token equals the gateway token/password: anyone who can call a hook can operate the gateway; set a separate hooks.token");
        }
      };
      r.onReload(["reload-hooks", "apply-gateway-auth"], () => warnSharedToken());

      const wake = (res: HttpResponse, state: ResponseState, body: Record<string, unknown>): void => {
        const w = parseWake(body);
        if (!w.ok) return answerJson(res, state, "400 Bad Request", { ok: false, error: w.error });
        ctx.systemEvents.enqueue(MAIN_SESSION_KEY, w.value.text);
        if (w.value.mode === "now") opts.requestHeartbeat?.("hook:wake");
        answerJson(res, state, "200 OK", { ok: true, mode: w.value.mode });
      };

      const agent = (res: HttpResponse, state: ResponseState, body: Record<string, unknown>): void => {
        const a = parseAgent(body);
        if (!a.ok) return answerJson(res, state, "400 Bad Request", { ok: false, error: a.error });
        const run = opts.runAgent;
        if (run === undefined) return answerJson(res, state, "503 Service Unavailable", { ok: false, error: "agent runs are not available" });
        answerJson(res, state, "202 Accepted", { ok: true, runId: a.value.runId });
        try {
          const p = run(a.value);
          if (p instanceof Promise) p.catch((err: unknown) => ctx.log.error({ runId: a.value.runId, err: String(err) }, "hook agent run failed"));
        } catch (err) {
          ctx.log.error({ runId: a.value.runId, err: String(err) }, "hook agent run failed to start");
        }
      };

      const mapped = async (res: HttpResponse, state: ResponseState, sub: string, payload: Record<string, unknown>, info: HookRequestInfo): Promise<void> => {
        const h = hooks();
        const m = findMapping(effectiveMappings(h.mappings, h.presets), sub, payload);
        if (m === undefined) {
          notFound(res, state);
          return;
        }
        const tctx: HookTemplateContext = { payload, headers: info.headers, url: info.url, path: sub, query: Object.fromEntries(new URLSearchParams(info.query)) };
        let action: MappedAction | null;
        try {
          action = renderMapping(m, tctx);
          if (m.transform !== undefined) {
            const dir = h.transformsDir !== undefined ? resolve(h.transformsDir) : resolve(ctx.live.current.stateDir, "hooks", "transforms");
            action = applyOverrides(action, await transforms.run(dir, m.transform, tctx));
          }
        } catch (err) {
          ctx.log.error({ mapping: m.id ?? m.match?.path, err: String(err) }, "hook mapping failed");
          return answerJson(res, state, "500 Internal Server Error", { ok: false, error: "hook mapping failed" });
        }
        if (action === null) {
          // A transform that returns null handled the hook itself (skip).
          endOnce(res, state, "204 No Content", {}, "");
          return;
        }
        if (action.action === "wake") wake(res, state, action.body);
        else agent(res, state, action.body);
      };

      const handler = (res: HttpResponse, req: HttpRequest, match: { method: string; path: string }): Promise<void> | void => {
        const h = hooks();
        const state = trackResponse(res);
        const cred = readBearerCredential(req, { header: "x-clawdbot-token", query: "reject" });
        if (cred.inQuery) {
          return answerJson(res, state, "400 Bad Request", { ok: false, error: "hook token must be sent in Authorization: Bearer or X-Clawdbot-Token, never in the URL" });
        }
        const ip = resolveClientIp(
          { remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(), forwardedFor: req.getHeader("x-forwarded-for"), realIp: req.getHeader("x-real-ip") },
          ctx.live.current.trustedProxies,
        );
        const limit = ctx.authLimiter.check(ip);
        if (!limit.allowed) {
          endOnce(res, state, "429 Too Many Requests", { ...JSON_TYPE, "Retry-After": String(Math.ceil(limit.retryAfterMs / 1000)) }, '{"ok":false,"error":"too many failed authentication attempts"}');
          return;
        }
        if (!safeEqualSecret(cred.token, h.token)) {
          ctx.authLimiter.recordFailure(ip);
          return sendUnauthorized(res, "text");
        }
        if (match.method !== "POST") {
          endOnce(res, state, "405 Method Not Allowed", { Allow: "POST", "Content-Type": "text/plain; charset=utf-8" }, "Method Not Allowed");
          return;
        }
        const sub = match.path.slice(h.path.length).replace(/^\/+|\/+$/g, "");
        if (sub === "") {
          notFound(res, state);
          return;
        }
        const info = copyRequest(req, match.path);
        return readBody(res, req, { maxBytes: h.maxBodyBytes, tooLarge: TOO_LARGE }).then((buf) => {
          let payload: Record<string, unknown> = {};
          if (buf.length > 0) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(buf.toString("utf8"));
            } catch (err) {
              return answerJson(res, state, "400 Bad Request", { ok: false, error: err instanceof Error ? err.message : "invalid JSON" });
            }
            if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) payload = parsed as Record<string, unknown>;
          }
          if (sub === "wake") return wake(res, state, payload);
          if (sub === "agent") return agent(res, state, payload);
          return mapped(res, state, sub, payload, info);
        });
      };

      // One entry per live base path: `hooks.path` is read per request through the prefix
      // check below, since the table's prefix is fixed at mount time.
      let mountedPath = "";
      let unmount: (() => void) | null = null;
      const mount = (): void => {
        const path = hooks().path;
        if (path === mountedPath) return;
        unmount?.();
        mountedPath = path;
        unmount = r.extra.http.mount({ stage: "hooks", path: { prefix: path }, enabled: () => hooks().enabled && hooks().path === path, handler });
      };
      mount();
      r.onReload(["reload-hooks"], () => mount());
      return {
        start: () => warnSharedToken(),
        stop: () => unmount?.(),
      };
    },
  };
}
