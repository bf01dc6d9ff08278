/**
 * The `control-ui` module: serves the Control UI (src/control-ui, built by `npm run build`
 * into `dist/control-ui/`) on the gateway port at `gateway.controlUi.basePath` (root by
 * default), stage "control-ui" of the mount table (§7.1, §7.6):
 *
 *   - GET/HEAD only (another method on a claimed path → 405 from the table).
 *   - Root base path: `/ui` and `/ui/…` are reserved → 404. Other base: exact `<base>` →
 *     302 to `<base>/` (query kept); paths outside the base are not claimed.
 *   - `<base>/avatar/<agentId>`: `?meta=1` → `{"avatarUrl":null}` (no avatar files are
 *     configured in this gateway); otherwise 404.
 *   - Files of the build by path; a missing `assets/…` file → 404; any other unknown path →
 *     `index.html` (SPA fallback) with the §7.6 globals injected. `..` and its encodings,
 *     backslashes and NULs → 404 (never the fallback).
 *   - `Cache-Control: no-cache` on every answer (§7.6), `nosniff`, `no-referrer`; the page
 *     gets a CSP and `X-Frame-Options: DENY`. Missing build → 503 text.
 *
 * Start-up cost: none. Only loaded when `gateway.controlUi.enabled` (gateway-run-command),
 * and the files are read on the first request (asset-set.ts).
 */
import { join } from "node:path";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { toSafeSegments } from "../../workers/canvas/path-safety.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { RouteMatch } from "../http/mount-table.js";
import { trackResponse, type ResponseState } from "../http/response-state.js";
import { sendAsset, sendText } from "./asset-reply.js";
import { AssetSet, packageRoot, type Asset } from "./asset-set.js";
import { buildIndexPage } from "./control-ui-page.js";

export const CONTROL_UI_MODULE = "control-ui";

const CACHE = "no-cache";
/** §7.6 avatar ids. */
const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Settings of the module beyond `gateway.controlUi.*`. */
export interface ControlUiSettings {
  /** Directory of the built page (`index.html`, `assets/`). Default `<package>/dist/control-ui`. */
  assetsDir?: string;
  /** Shown by the page. Default `"Clawdbot"`. */
  assistantName?: string;
}

/** §7.6: leading `/`, no trailing `/`; `""` and `/` mean the root (returned as `""`). */
export function normalizeBasePath(raw: string): string {
  const t = raw.trim().replace(/\/+$/, "");
  if (t === "") return "";
  return t.startsWith("/") ? t : `/${t}`;
}

/** Modules for `gateway run`: the Control UI unless `gateway.controlUi.enabled === false`. */
export function controlUiModules(controlUi: { enabled: boolean }, settings: ControlUiSettings = {}): GatewayModuleDef[] {
  return controlUi.enabled ? [controlUiModule(settings)] : [];
}

interface Loaded {
  assets: ReadonlyMap<string, Asset>;
  index: Buffer;
  indexHeaders: Record<string, string>;
}

export function controlUiModule(settings: ControlUiSettings = {}): GatewayModuleDef {
  return {
    name: CONTROL_UI_MODULE,
    register(r) {
      const live = r.core.live;
      const base = normalizeBasePath(live.current.controlUi.basePath);
      const set = new AssetSet(settings.assetsDir ?? join(packageRoot(), "dist", "control-ui"));
      let loaded: Loaded | null = null;

      async function load(): Promise<Loaded | null> {
        const assets = await set.get();
        if (assets === null) return null;
        const template = assets.get("index.html") as Asset;
        const page = buildIndexPage(template.body, { basePath: base, assistantName: settings.assistantName ?? "Clawdbot", assistantAvatar: null });
        loaded ??= {
          assets,
          index: page.html,
          indexHeaders: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": CACHE, "Content-Security-Policy": page.csp, "X-Frame-Options": "DENY" },
        };
        return loaded;
      }

      function serve(res: HttpResponse, state: ResponseState, method: string, l: Loaded | null, segments: readonly string[]): void {
        if (l === null) {
          sendText(res, state, method, "503 Service Unavailable", "Control UI assets not found. Build them with `npm run build`.", CACHE);
          return;
        }
        const key = segments.join("/");
        const asset = key === "" || key === "index.html" ? undefined : l.assets.get(key);
        if (asset) {
          sendAsset(res, state, method, "200 OK", { "Content-Type": asset.contentType, "Cache-Control": CACHE }, asset.body);
        } else if (segments[0] === "assets") {
          sendText(res, state, method, "404 Not Found", "Not Found", CACHE);
        } else {
          sendAsset(res, state, method, "200 OK", l.indexHeaders, l.index);
        }
      }

      function handle(res: HttpResponse, req: HttpRequest, match: RouteMatch): void {
        const state = trackResponse(res);
        const { method, path } = match;
        let rest: string;
        if (base === "") {
          if (path === "/ui" || path.startsWith("/ui/")) {
            sendText(res, state, method, "404 Not Found", "Not Found", CACHE);
            return;
          }
          rest = path.slice(1);
        } else {
          if (path === base) {
            const q = req.getQuery() ?? "";
            sendAsset(res, state, method, "302 Found", { Location: `${base}/${q ? `?${q}` : ""}`, "Cache-Control": CACHE, "Content-Type": "text/plain; charset=utf-8" }, "");
            return;
          }
          rest = path.slice(base.length + 1);
        }
        const segments = toSafeSegments(rest);
        if (segments === null) {
          sendText(res, state, method, "404 Not Found", "Not Found", CACHE);
          return;
        }
        if (segments[0] === "avatar" && segments.length === 2) {
          const meta = (req.getQuery("meta") ?? "") === "1";
          if (AGENT_ID.test(segments[1] as string) && meta) {
            sendAsset(res, state, method, "200 OK", { "Content-Type": "application/json; charset=utf-8", "Cache-Control": CACHE }, '{"avatarUrl":null}');
          } else {
            sendText(res, state, method, "404 Not Found", "Not Found", CACHE);
          }
          return;
        }
        if (loaded !== null) {
          serve(res, state, method, loaded, segments);
          return;
        }
        return void load().then(
          (l) => serve(res, state, method, l, segments),
          (err: unknown) => {
            r.core.log.error({ err: err instanceof Error ? err.message : String(err) }, "control-ui: reading assets failed");
            sendText(res, state, method, "503 Service Unavailable", "Control UI assets unreadable", CACHE);
          },
        );
      }

      r.extra.http.mount({
        stage: "control-ui",
        path: { prefix: base === "" ? "/" : base },
        methods: ["GET", "HEAD"],
        enabled: () => live.current.controlUi.enabled,
        handler: handle,
      });
      return { api: { basePath: base, assetsDir: set.dir } };
    },
  };
}
