/**
 * The canvas host: a `node:http` server for canvas files, A2UI assets and the live-reload
 * WebSocket (served with `ws`). Runs inside the canvas worker thread (`canvas-link-worker.ts`)
 * and directly in tests.
 *
 * Built on `node:http`, not uWebSockets.js like the main thread: with the installed uWS build
 * a worker thread holding uWS handles aborts the whole process (node assertion
 * "uv_loop_close() while having open handles") when it is terminated or dies from an uncaught
 * exception. The canvas worker must be restartable without taking the gateway down, and
 * `node:http` handles are torn down cleanly with their thread. See docs/canvas.md.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import type { CanvasLogger } from "./canvas-logger.js";
import { describeError, silentLogger } from "./canvas-logger.js";
import type { CapabilityGate } from "./canvas-capability.js";
import { CANVAS_PREFIX, LIVE_RELOAD_WS_PATH } from "./canvas-paths.js";
import { sendText } from "./http-replies.js";
import type { LiveReload, WatchEvent } from "./live-reload.js";
import { createLiveReload } from "./live-reload.js";
import { createRequestHandler } from "./request-handler.js";
import { ensureCanvasRoot } from "./starter-page.js";
import { DEFAULT_MAX_INJECT_BYTES } from "./static-files.js";

/** Options of `startCanvasServer`. */
export interface CanvasServerOptions {
  /** Canvas root directory (`canvasHost.root`); created, with a starter page when empty. */
  root: string;
  /** Bind address, e.g. `127.0.0.1`. */
  host: string;
  /** Port; 0 picks a free one (the bound port is returned). */
  port: number;
  /** Watch the root, serve `/__clawdbot/ws` and inject the reload script into HTML. Default true. */
  liveReload?: boolean;
  /** Directory of A2UI assets; default: the built-in shim served from memory. */
  a2uiRoot?: string;
  /** Structured logger. Default: silent. */
  logger?: CanvasLogger;
  /** HTML above this many bytes is streamed without injection. Default 2 MiB. */
  maxInjectBytes?: number;
  /** Live-reload debounce. Default 75 ms. */
  reloadDebounceMs?: number;
  /** Diagnostics hook: every watcher event after dotfile/node_modules filtering. Default: none. */
  onWatchEvent?: (event: WatchEvent) => void;
  /**
   * When set (non-loopback binds), every request and upgrade must come under
   * `/__cap/<token>/` with a token the gate holds; anything else is 403. Default: none
   * (loopback: no capability).
   */
  capabilities?: CapabilityGate;
  /**
   * Awaited after everything else is ready, right before the bind: lets the gateway keep the
   * port (see main/canvas/canvas-port-keeper.ts) until this server can take it at once.
   * Default: bind without waiting.
   */
  beforeListen?: () => Promise<void>;
}

/** A running canvas host. */
export interface CanvasServer {
  /** The bound port. */
  port: number;
  /** Base URL of the canvas files, e.g. `http://127.0.0.1:18793/__clawdbot__/canvas/` (without any capability). */
  url: string;
  /** Stops watching, closes live-reload sockets (1001) and every HTTP connection. Idempotent. */
  close(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Starts the canvas host and resolves once it is listening (rejects e.g. on EADDRINUSE). */
export async function startCanvasServer(opts: CanvasServerOptions): Promise<CanvasServer> {
  const logger = opts.logger ?? silentLogger;
  const liveReloadEnabled = opts.liveReload !== false;
  if (await ensureCanvasRoot(opts.root)) logger.info({ root: opts.root }, "canvas: created starter index.html");
  const canvasRootReal = await fs.promises.realpath(opts.root);

  let liveReload: LiveReload | undefined;
  if (liveReloadEnabled) {
    liveReload = createLiveReload({
      root: canvasRootReal,
      logger,
      debounceMs: opts.reloadDebounceMs,
      onWatchEvent: opts.onWatchEvent,
    });
    await liveReload.ready;
  }

  const handle = createRequestHandler({
    canvasRoot: opts.root,
    canvasRootReal,
    a2uiRoot: opts.a2uiRoot,
    liveReload: liveReloadEnabled,
    maxInjectBytes: opts.maxInjectBytes ?? DEFAULT_MAX_INJECT_BYTES,
    logger,
  });
  const gate = opts.capabilities;
  const unsubscribeRevoke = gate?.onRevoke((digest) => liveReload?.closeOwner(digest));
  const server = http.createServer((req, res) => {
    if (!gate) return handle(req, res);
    const admitted = gate.admit(req.url ?? "");
    if (!admitted) return sendText(req, res, 403, "canvas capability required");
    handle(req, res, admitted.rest, admitted.mount);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => {});
    const admitted = gate ? gate.admit(req.url ?? "") : { digest: undefined, rest: req.url ?? "" };
    if (!admitted) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const pathname = admitted.rest.split("?")[0];
    if (liveReload && pathname === LIVE_RELOAD_WS_PATH) {
      liveReload.handleUpgrade(req, socket, head, admitted.digest);
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    logger.debug({ err: describeError(err) }, "canvas: bad client request");
    if (socket.writable && err.code !== "ECONNRESET") {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    } else {
      socket.destroy();
    }
  });

  try {
    await opts.beforeListen?.();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: opts.host, port: opts.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    unsubscribeRevoke?.();
    liveReload?.close();
    throw err;
  }
  server.on("error", (err) => logger.error({ err: describeError(err) }, "canvas: server error"));

  const port = (server.address() as AddressInfo).port;
  const url = `http://${formatHost(opts.host)}:${port}${CANVAS_PREFIX}`;
  logger.info({ url, root: canvasRootReal, liveReload: liveReloadEnabled }, "canvas: listening");

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unsubscribeRevoke?.();
        liveReload?.close();
        server.close(() => resolve());
        // In-flight downloads and keep-alive sockets; upgraded live-reload sockets finish
        // their close handshake (or are destroyed after a 1 s grace) on their own.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
