/**
 * HTTP on the gateway port: one uWS `any("/*")` route dispatching through the ordered mount
 * table (§7.1, see mount-table.ts for the order and why one dispatcher). The probes are
 * mounted here; modules (hooks, tools/invoke, OpenAI-compatible endpoints, A2UI, Control
 * UI, metrics) mount into the same table (`GatewayExtras.http`). Nothing claims → 404.
 *
 * Upgrade requests never get here: `app.ws("/*")` takes them, and yields non-upgrade GETs
 * to this route.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { Logger } from "pino";
import type { GatewayContext } from "../gateway-context.js";
import type { HttpMountTable } from "./mount-table.js";
import { HttpBodyError } from "./read-body.js";
import { endOnce, trackResponse } from "./response-state.js";
import { mountMetrics } from "./metrics-route.js";
import { mountProbes } from "./probes.js";

export interface HttpRouteDeps {
  /** Mounts extra (plugin, test) entries into the table before the first request. */
  register?: (table: HttpMountTable, ctx: GatewayContext) => void;
}

function json(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(body);
  });
}

/**
 * Mounts the probes and `/metrics` into `table` (where the modules mounted theirs) and
 * routes every non-upgrade request through it. Returns the release of the metrics registry.
 */
export function registerHttpRoutes(app: TemplatedApp, ctx: GatewayContext, table: HttpMountTable): () => void {
  mountProbes(table, ctx);
  const releaseMetrics = mountMetrics(table, ctx);
  app.any("/*", (res: HttpResponse, req: HttpRequest) => dispatch(table, res, req, ctx.log));
  return releaseMetrics;
}

/** Runs the first entry that claims the request; 405 / 404 otherwise; a failing handler → 500. */
export function dispatch(table: HttpMountTable, res: HttpResponse, req: HttpRequest, log: Logger): void {
  const method = req.getMethod().toUpperCase();
  const path = req.getUrl();
  const found = table.lookup(method, path);
  if (found.kind === "none") {
    json(res, "404 Not Found", JSON.stringify({ error: { message: `not found: ${method} ${path}` } }));
    return;
  }
  if (found.kind === "method-not-allowed") {
    res.cork(() => {
      res.writeStatus("405 Method Not Allowed").writeHeader("Allow", found.allow).writeHeader("Content-Type", "text/plain; charset=utf-8").end("Method Not Allowed");
    });
    return;
  }
  try {
    const out = found.mount.handler(res, req, { method, path });
    // The failure closure is made only for async handlers: a sync probe allocates nothing.
    if (out !== undefined) out.catch((err: unknown) => failRequest(res, err, method, path, log));
  } catch (err) {
    failRequest(res, err, method, path, log);
  }
}

/** A handler threw or rejected: log it and answer 500 unless the response is already gone. */
function failRequest(res: HttpResponse, err: unknown, method: string, path: string, log: Logger): void {
  // A body helper already answered (413) or the client is gone: nothing left to do.
  if (err instanceof HttpBodyError) return;
  log.error({ err: err instanceof Error ? err.message : String(err), method, path }, "http handler failed");
  try {
    // §7.1 answers `500 text/plain <error>`; the error text stays in the log instead,
    // since it can carry paths and internals.
    endOnce(res, trackResponse(res), "500 Internal Server Error", { "Content-Type": "text/plain; charset=utf-8" }, "Internal Server Error");
  } catch {
    // The handler had already ended the response (uWS refuses access to it): nothing to send.
  }
}
