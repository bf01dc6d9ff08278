/**
 * Protocol of the supervised canvas worker over the ring link (types only).
 *
 * The canvas host is started from `workerData.user` (CanvasWorkerData); main asks for
 * its address with `status` (answered once it listens) and receives its log lines as
 * events, which it forwards to the gateway logger. On a non-loopback bind main also keeps
 * the worker's set of valid capabilities current (`capGrant`/`capRevoke`/`capSync`, see
 * canvas-capability.ts).
 */
import type { CapabilityEvent } from "./canvas-capability.js";
import type { CanvasLogLevel } from "./canvas-logger.js";

/** `workerData` of the canvas worker (`canvasHost.*` config, already resolved). */
export interface CanvasWorkerData {
  /** Canvas root. Default `~/clawd/canvas`. */
  root?: string;
  /** Bind address. Default `127.0.0.1`. */
  host?: string;
  /** Port. Default 18793; 0 picks a free port (the bound port is in `status`). */
  port?: number;
  /** Live reload on/off. Default true. */
  liveReload?: boolean;
  /** A2UI asset directory. Default: the built-in shim. */
  a2uiRoot?: string;
  /**
   * Serve only under a valid `/__cap/<token>/` (non-loopback binds; the ring-linked worker
   * learns valid capabilities from main). Default false.
   */
  requireCapability?: boolean;
  /**
   * Prepare everything but do not bind until main sends `listen` (main holds the port until
   * then and releases it in between). Default false: bind at start.
   */
  deferListen?: boolean;
}

/** What main and the canvas worker exchange over the ring link. */
export interface CanvasLinkProtocol {
  worker: {
    requests: {
      /** Resolves once the canvas host listens. */
      status(p: Record<string, never>): { port: number; url: string; capabilities: number | null };
      /** `deferListen` only: resolves once the host is ready to bind (root, watcher and handler set up). */
      prepare(p: Record<string, never>): Record<string, never>;
      /** `deferListen` only: binds now (main has released the port); resolves once listening. */
      listen(p: Record<string, never>): { port: number; url: string };
    };
    events: CapabilityEvent;
  };
  main: {
    requests: Record<string, never>;
    events: { type: "log"; level: CanvasLogLevel; msg: string; fields: Record<string, unknown> };
  };
}
