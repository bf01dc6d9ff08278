/**
 * Routes one HTTP request of the canvas host:
 *
 *   /__clawdbot__/canvas/<path>  GET|HEAD  files from the canvas root (405 otherwise)
 *   /__clawdbot__/a2ui/<path>    GET|HEAD  A2UI assets (a2uiRoot dir, or the built-in shim)
 *   /__clawdbot/ws               GET|HEAD  426 (the WebSocket upgrade is handled elsewhere)
 *   /__clawdbot__/canvas, /__clawdbot__/a2ui   301 to the same path with a trailing slash
 *   anything else                          404
 *
 * Behind a capability (non-loopback bind) the same routes live under `/__cap/<token>`: the
 * server strips that mount after checking it and passes the rest as `url`; redirects keep it.
 */
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { DEFAULT_A2UI_ASSETS } from "./a2ui/default-assets.js";
import type { CanvasLogger } from "./canvas-logger.js";
import { describeError } from "./canvas-logger.js";
import { A2UI_PREFIX, CANVAS_PREFIX, LIVE_RELOAD_WS_PATH } from "./canvas-paths.js";
import { isHtmlPath } from "./content-types.js";
import { injectLiveReload } from "./html-inject.js";
import {
  escapeHtml,
  isReadMethod,
  sendBuffer,
  sendMethodNotAllowed,
  sendNotFound,
  sendRedirect,
  sendText,
} from "./http-replies.js";
import { toSafeSegments } from "./path-safety.js";
import { serveFile } from "./static-files.js";

/** What the handler needs to know about its server. */
export interface RequestHandlerOptions {
  /** Canvas root as configured (shown in the "missing index" page). */
  canvasRoot: string;
  /** Realpath of the canvas root. */
  canvasRootReal: string;
  /** A2UI directory; undefined serves the built-in shim assets. */
  a2uiRoot: string | undefined;
  liveReload: boolean;
  maxInjectBytes: number;
  logger: CanvasLogger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Answers one request. `url` is the path + query to route (default `req.url`); `mount` is
 * the already-checked capability prefix it was found under (default none).
 */
export type CanvasRequestHandler = (req: IncomingMessage, res: ServerResponse, url?: string, mount?: string) => void;

/** Builds the request handler of the canvas HTTP server. */
export function createRequestHandler(opts: RequestHandlerOptions): CanvasRequestHandler {
  const htmlPage = (html: string): Buffer => {
    const bytes = Buffer.from(html, "utf8");
    return opts.liveReload ? injectLiveReload(bytes) : bytes;
  };
  const missingIndex: Handler = (req, res) => {
    const where = escapeHtml(path.join(opts.canvasRoot, "index.html"));
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>Missing file</title></head><body><p>Missing file. Create ${where}</p></body></html>`;
    sendBuffer(req, res, 404, "text/html; charset=utf-8", htmlPage(page));
  };

  const serveA2ui = async (req: IncomingMessage, res: ServerResponse, rawRest: string): Promise<void> => {
    const segments = toSafeSegments(rawRest);
    if (!segments) return sendNotFound(req, res);
    const trailingSlash = rawRest === "" || rawRest.endsWith("/");
    if (opts.a2uiRoot === undefined) {
      const key = [...segments, ...(trailingSlash ? ["index.html"] : [])].join("/");
      const asset = DEFAULT_A2UI_ASSETS.get(key);
      if (!asset) return sendNotFound(req, res);
      const body = opts.liveReload && isHtmlPath(key) ? injectLiveReload(asset.body) : asset.body;
      return sendBuffer(req, res, 200, asset.contentType, body);
    }
    let rootReal: string;
    try {
      rootReal = await fs.promises.realpath(opts.a2uiRoot);
      await fs.promises.access(path.join(rootReal, "index.html"), fs.constants.R_OK);
    } catch {
      return sendText(req, res, 503, "A2UI assets not found");
    }
    await serveFile(req, res, {
      rootReal,
      segments,
      trailingSlash,
      inject: opts.liveReload,
      maxInjectBytes: opts.maxInjectBytes,
      logger: opts.logger,
    });
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: string, mount: string): Promise<void> => {
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q);

    if (pathname === LIVE_RELOAD_WS_PATH) {
      if (!opts.liveReload) return sendNotFound(req, res);
      if (!isReadMethod(req.method)) return sendMethodNotAllowed(req, res);
      return sendText(req, res, 426, "upgrade required", { Upgrade: "websocket" });
    }
    for (const prefix of [CANVAS_PREFIX, A2UI_PREFIX]) {
      if (pathname === prefix.slice(0, -1)) {
        if (!isReadMethod(req.method)) return sendMethodNotAllowed(req, res);
        return sendRedirect(req, res, mount + prefix + query);
      }
    }
    if (pathname.startsWith(CANVAS_PREFIX)) {
      if (!isReadMethod(req.method)) return sendMethodNotAllowed(req, res);
      const rawRest = pathname.slice(CANVAS_PREFIX.length);
      const segments = toSafeSegments(rawRest);
      if (!segments) return sendNotFound(req, res);
      return serveFile(req, res, {
        rootReal: opts.canvasRootReal,
        segments,
        trailingSlash: rawRest === "" || rawRest.endsWith("/"),
        inject: opts.liveReload,
        maxInjectBytes: opts.maxInjectBytes,
        onMissingIndex: missingIndex,
        logger: opts.logger,
      });
    }
    if (pathname.startsWith(A2UI_PREFIX)) {
      if (!isReadMethod(req.method)) return sendMethodNotAllowed(req, res);
      return serveA2ui(req, res, pathname.slice(A2UI_PREFIX.length));
    }
    return sendNotFound(req, res);
  };

  return (req, res, url = req.url ?? "", mount = "") => {
    route(req, res, url, mount).catch((err: unknown) => {
      // `url` has the capability stripped: tokens never reach the log.
      opts.logger.error({ err: describeError(err), url }, "canvas: request failed");
      if (!res.headersSent) sendText(req, res, 500, "internal error");
      else res.destroy();
    });
  };
}
