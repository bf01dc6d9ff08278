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
import type { CanvasLogger } from "./canvas-logger.js";
import { describeError } from "./canvas-logger.js";
import type { TreeWatcher } from "./tree-watcher.js";
import { watchTree } from "./tree-watcher.js";
import type { LiteSocket } from "./ws-lite.js";
import { acceptWebSocket } from "./ws-lite.js";

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
  /** Handles an HTTP upgrade already routed to the live-reload path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
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
  const sockets = new Set<LiteSocket>();
  let timer: NodeJS.Timeout | undefined;
  let firstPendingAt = 0;
  let closed = false;

  const broadcastReload = (): number => {
    let sent = 0;
    for (const s of sockets) if (s.sendText("reload")) sent++;
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

  const watcher: TreeWatcher = watchTree({
    root: opts.root,
    onChange: (path) => {
      opts.onWatchEvent?.({ path, ignored: false });
      scheduleReload();
    },
    onIgnored: (path) => opts.onWatchEvent?.({ path, ignored: true }),
    onError: (err, dir) => opts.logger.warn({ err: describeError(err), dir }, "canvas: file watch failed; live reload may miss changes"),
  });

  return {
    ready: watcher.ready,
    handleUpgrade(req, socket, head) {
      if (closed) {
        socket.destroy();
        return;
      }
      const ws = acceptWebSocket(req, socket, head);
      if (!ws) return;
      sockets.add(ws);
      ws.onClose(() => sockets.delete(ws));
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
      for (const s of sockets) s.close(1001, "canvas host stopping");
    },
  };
}
