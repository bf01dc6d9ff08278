/**
 * The `a2ui` module: the A2UI renderer page at `/__clawdbot__/a2ui/` on the gateway port
 * (§7.7, stage "a2ui" of the mount table). The page is built by the project from the A2UI
 * project's Lit renderer (`@a2ui/lit`, src/control-ui/a2ui/) into `dist/a2ui/`
 * (`index.html` + `a2ui.bundle.js`) and held in memory after the first request.
 *
 * Nodes load `<canvasHostUrl>/__clawdbot__/a2ui/` in their webview and apply the payloads of
 * `canvas.a2ui.push` / `pushJSONL` / `reset` through `globalThis.clawdbotA2UI` (see
 * a2ui-main.ts); the gateway only serves the page.
 *
 *   - `/__clawdbot__/a2ui` → 301 to `/__clawdbot__/a2ui/` (query kept), as the canvas host.
 *   - `/__clawdbot__/a2ui/` and `…/index.html` → the page; other files of the build by path;
 *     anything else → 404 (no SPA fallback); traversal forms → 404.
 *   - GET/HEAD only (405 otherwise); `Cache-Control: no-store` like the canvas (§7.7).
 *   - No build → 503 `A2UI assets not found` (§7.7).
 */
import { join } from "node:path";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { toSafeSegments } from "../../workers/canvas/path-safety.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { RouteMatch } from "../http/mount-table.js";
import { trackResponse, type ResponseState } from "../http/response-state.js";
import { sendAsset, sendText } from "../control-ui/asset-reply.js";
import { AssetSet, packageRoot, type Asset } from "../control-ui/asset-set.js";

export const A2UI_MODULE = "a2ui";
/** The HTTP prefix (§7.7). */
export const A2UI_PATH = "/__clawdbot__/a2ui";

const CACHE = "no-store";

/** Settings of the module. */
export interface A2uiSettings {
  /** Directory of the built page. Default `<package>/dist/a2ui`. */
  assetsDir?: string;
}

/** Modules for `gateway run`: the A2UI page unless the canvas host is disabled (§7.7). */
export function a2uiModules(canvasEnabled: boolean, settings: A2uiSettings = {}): GatewayModuleDef[] {
  return canvasEnabled ? [a2uiModule(settings)] : [];
}

/** Default directory of the built A2UI page. */
export function defaultA2uiDir(): string {
  return join(packageRoot(), "dist", "a2ui");
}

export function a2uiModule(settings: A2uiSettings = {}): GatewayModuleDef {
  return {
    name: A2UI_MODULE,
    register(r) {
      const set = new AssetSet(settings.assetsDir ?? defaultA2uiDir());
      let loaded: ReadonlyMap<string, Asset> | null = null;

      function serve(res: HttpResponse, state: ResponseState, method: string, assets: ReadonlyMap<string, Asset> | null, key: string): void {
        if (assets === null) {
          sendText(res, state, method, "503 Service Unavailable", "A2UI assets not found", CACHE);
          return;
        }
        const asset = assets.get(key === "" ? "index.html" : key);
        if (!asset) {
          sendText(res, state, method, "404 Not Found", "not found", CACHE);
          return;
        }
        sendAsset(res, state, method, "200 OK", { "Content-Type": asset.contentType, "Cache-Control": CACHE }, asset.body);
      }

      function handle(res: HttpResponse, req: HttpRequest, match: RouteMatch): void {
        const state = trackResponse(res);
        const { method, path } = match;
        if (path === A2UI_PATH) {
          const q = req.getQuery() ?? "";
          sendAsset(res, state, method, "301 Moved Permanently", { Location: `${A2UI_PATH}/${q ? `?${q}` : ""}`, "Cache-Control": CACHE, "Content-Type": "text/plain; charset=utf-8" }, "");
          return;
        }
        const segments = toSafeSegments(path.slice(A2UI_PATH.length + 1));
        if (segments === null) {
          sendText(res, state, method, "404 Not Found", "not found", CACHE);
          return;
        }
        const key = segments.join("/");
        if (loaded !== null) {
          serve(res, state, method, loaded, key);
          return;
        }
        void set.get().then(
          (assets) => {
            loaded = assets;
            serve(res, state, method, assets, key);
          },
          (err: unknown) => {
            r.core.log.error({ err: err instanceof Error ? err.message : String(err) }, "a2ui: reading assets failed");
            sendText(res, state, method, "503 Service Unavailable", "A2UI assets not found", CACHE);
          },
        );
      }

      r.extra.http.mount({ stage: "a2ui", path: { prefix: A2UI_PATH }, methods: ["GET", "HEAD"], handler: handle });
      return { api: { assetsDir: set.dir } };
    },
  };
}
