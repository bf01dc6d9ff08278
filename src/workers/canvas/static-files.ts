/**
 * Serves one file from a root directory: resolve safely, then either stream it (any size,
 * with backpressure) or, for HTML that gets the live-reload script, read it into memory when
 * it is small enough to do so.
 *
 * Memory bound: a streamed file costs at most one read-stream chunk (64 KiB) plus the
 * socket's writable high-water mark, whatever its size; `pipeline` pauses the read stream
 * while the response is above its high-water mark and destroys both sides (closing the file
 * descriptor) when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { CanvasLogger } from "./canvas-logger.js";
import { describeError } from "./canvas-logger.js";
import { contentTypeFor, isHtmlPath } from "./content-types.js";
import { injectLiveReload } from "./html-inject.js";
import { BASE_HEADERS, sendBuffer, sendNotFound } from "./http-replies.js";
import { openInsideRoot, resolveInsideRoot } from "./path-safety.js";

/** HTML at or below this size is read into memory to inject the live-reload script. */
export const DEFAULT_MAX_INJECT_BYTES = 2 * 1024 * 1024;

/** How to serve one request from a root. */
export interface ServeFileOptions {
  /** Realpath of the root directory. */
  rootReal: string;
  /** Safe segments from `toSafeSegments`. */
  segments: readonly string[];
  /** The request path ended with `/` (serve that directory's index.html). */
  trailingSlash: boolean;
  /** Inject the live-reload script into HTML. */
  inject: boolean;
  /** HTML larger than this is streamed without injection. Default `DEFAULT_MAX_INJECT_BYTES`. */
  maxInjectBytes?: number;
  /** Custom answer when a directory index is missing; default plain 404. */
  onMissingIndex?: (req: IncomingMessage, res: ServerResponse) => void;
  logger: CanvasLogger;
}

/** Resolves and sends one file (or a 404). Never rejects: failures become responses or logs. */
export async function serveFile(req: IncomingMessage, res: ServerResponse, opts: ServeFileOptions): Promise<void> {
  const resolved = await resolveInsideRoot(opts.rootReal, opts.segments, opts.trailingSlash);
  if (resolved.kind !== "file") {
    if (resolved.kind === "missing" && resolved.wantedIndex && opts.onMissingIndex) opts.onMissingIndex(req, res);
    else sendNotFound(req, res);
    return;
  }
  // Re-verified on the open descriptor: the path may have been swapped since the check.
  const opened = await openInsideRoot(opts.rootReal, resolved.realPath);
  if (!opened) {
    opts.logger.debug({ path: resolved.realPath }, "canvas: open refused or failed");
    sendNotFound(req, res);
    return;
  }
  const { handle, size } = opened;
  try {
    const contentType = contentTypeFor(resolved.realPath);
    const maxInject = opts.maxInjectBytes ?? DEFAULT_MAX_INJECT_BYTES;
    if (opts.inject && isHtmlPath(resolved.realPath) && size <= maxInject) {
      const html = await handle.readFile();
      await handle.close();
      sendBuffer(req, res, 200, contentType, injectLiveReload(html));
      return;
    }
    res.writeHead(200, { ...BASE_HEADERS, "Content-Type": contentType, "Content-Length": size });
    if (req.method === "HEAD" || size === 0) {
      await handle.close();
      res.end();
      return;
    }
    // `end` pins the body to the Content-Length we announced even if the file grows meanwhile.
    const stream = handle.createReadStream({ start: 0, end: size - 1, autoClose: true });
    await pipeline(stream, res);
  } catch (err) {
    // Typically the client went away mid-stream (ERR_STREAM_PREMATURE_CLOSE); pipeline has
    // already destroyed the read stream and so closed the descriptor.
    opts.logger.debug({ err: describeError(err), path: resolved.realPath }, "canvas: response aborted");
    await handle.close().catch(() => {});
    if (!res.headersSent) sendNotFound(req, res);
    else res.destroy();
  }
}
