/**
 * Live reload: watches the canvas root and sends the text frame `reload` to every socket
 * connected to `/__clawdbot/ws` once changes settle.
 *
 * Debounce: each accepted change (re)arms a `debounceMs` timer, so an editor's save burst
 * (write temp, rename, chmod) produces one reload; `maxWaitMs` caps the delay so a file that
 * is rewritten continuously still reloads pages periodically.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { WebSocket } from "ws";
import type { CanvasLogger } from "./canvas-logger.js";
import { describeError } from "./canvas-logger.js";
import { rateLimitedLog } from "./log-rate-limit.js";
import type { TreeWatcher } from "./tree-watcher.js";
import { watchTree } from "./tree-watcher.js";

/** Largest client message accepted; the socket has no use for client data (larger → 1009). */
export const MAX_CLIENT_FRAME = 64 * 1024;
/** Unsent bytes above which a peer is considered stuck and dropped. */
const MAX_SEND_BUFFER = 256 * 1024;
/** How long a socket closed by us may take to answer our close frame before it is cut. */
const CLOSE_GRACE_MS = 1000;

/** A file-system event the watcher classified (diagnostics hook). */
export interface WatchEvent {
  /** Root-relative, `/`-separated path ('' when the platform did not name the file). */
  path: string;
  /** True when dropped because it is a dotfile or under `node_modules`. */
  ignored: boolean;
}

/** Options of `createLiveReload`. */
export interface LiveReloadOptions {
  /** Directory to watch. */
  root: string;
  logger: CanvasLogger;
  /** Quiet period before a reload is sent. Default 75 ms. */
  debounceMs?: number;
  /** Longest a reload is deferred by a continuous stream of changes. Default 500 ms. */
  maxWaitMs?: number;
  /** Called for every watcher event after classification. Default: none. */
  onWatchEvent?: (event: WatchEvent) => void;
}

/** The live-reload hub of one canvas server. */
export interface LiveReload {
  /** Resolves once the watcher has attached to the tree. */
  readonly ready: Promise<void>;
  /**
   * Handles an HTTP upgrade already routed to the live-reload path. `owner` tags the socket
   * (the digest of the capability it came with) so `closeOwner` can end it.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, owner?: string): void;
  /** Closes (1008) every socket tagged with `owner`: its capability was revoked. */
  closeOwner(owner: string): void;
  /** Sends `reload` to every connected socket now; returns how many got it. */
  broadcastReload(): number;
  /** Number of connected live-reload sockets. */
  readonly clientCount: number;
  /** Stops watching and closes every socket with 1001 (going away). */
  close(): void;
}

/** Starts watching `opts.root` and returns the hub. */
export function createLiveReload(opts: LiveReloadOptions): LiveReload {
  const debounceMs = opts.debounceMs ?? 75;
  const maxWaitMs = opts.maxWaitMs ?? 500;
  const sockets = new Set<WebSocket>();
  const owners = new Map<WebSocket, string>();
  // `ws` does the RFC 6455 work (handshake validation, masking, ping → pong, close
  // handshake echoing the peer's code, 1002/1009 on protocol errors). No compression:
  // the only message is the 6-byte `reload`.
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false });

  /** Closes one socket and cuts it if the peer does not complete the close handshake in time. */
  const closeSocket = (ws: WebSocket, code: number, reason: string): void => {
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };

  const send = (ws: WebSocket, text: string): boolean => {
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > MAX_SEND_BUFFER) {
      ws.terminate();
      return false;
    }
    ws.send(text);
    return true;
  };
  let timer: NodeJS.Timeout | undefined;
  let firstPendingAt = 0;
  let closed = false;

  const broadcastReload = (): number => {
    let sent = 0;
    for (const s of sockets) if (send(s, "reload")) sent++;
    opts.logger.debug({ clients: sent }, "canvas: live reload sent");
    return sent;
  };

  const fire = (): void => {
    timer = undefined;
    firstPendingAt = 0;
    broadcastReload();
  };

  const scheduleReload = (): void => {
    if (closed) return;
    const now = Date.now();
    if (timer === undefined) firstPendingAt = now;
    else clearTimeout(timer);
    const wait = Math.max(0, Math.min(debounceMs, firstPendingAt + maxWaitMs - now));
    timer = setTimeout(fire, wait);
  };

  // A directory that keeps vanishing and reappearing fails its watch every time: bounded.
  const watchFailed = rateLimitedLog((fields, msg) => opts.logger.warn(fields, msg), {
    burst: 5,
    windowMs: 60_000,
    summary: "canvas: more file watch failures suppressed; live reload may miss changes",
  });
  const watcher: TreeWatcher = watchTree({
    root: opts.root,
    onChange: (path) => {
      opts.onWatchEvent?.({ path, ignored: false });
      scheduleReload();
    },
    onIgnored: (path) => opts.onWatchEvent?.({ path, ignored: true }),
    onError: (err, dir) => watchFailed.write({ err: describeError(err), dir }, "canvas: file watch failed; live reload may miss changes"),
  });

  return {
    ready: watcher.ready,
    handleUpgrade(req, socket, head, owner) {
      if (closed) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (closed) {
          ws.terminate();
          return;
        }
        sockets.add(ws);
        if (owner !== undefined) owners.set(ws, owner);
        // Errors (ECONNRESET, protocol violations) always end in 'close'.
        ws.on("error", () => {});
        ws.on("close", () => {
          sockets.delete(ws);
          owners.delete(ws);
        });
      });
    },
    closeOwner(owner) {
      for (const [ws, o] of owners) if (o === owner) closeSocket(ws, 1008, "canvas capability revoked");
    },
    broadcastReload,
    get clientCount() {
      return sockets.size;
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
      watchFailed.close();
      for (const s of sockets) closeSocket(s, 1001, "canvas host stopping");
    },
  };
}
