/**
 * Messages between the main thread and the canvas worker (`canvas-worker.ts`).
 *
 *   parent                                   canvas worker
 *     new Worker(entry, {workerData}) ───▶   start server
 *                                     ◀───   {type:'listening', port, url}
 *                                     ◀───   {type:'log', ...}            (any time)
 *     {type:'stop'}                   ───▶   close server, watcher, sockets
 *                                     ◀───   {type:'stopped'}  then exit code 0
 *   on a startup failure or an uncaught error/rejection:
 *                                     ◀───   {type:'error', error}  then exit code 1
 *
 * All messages are plain data (structured clone). Unknown `type`s fail loudly on both sides.
 */
import type { WireError } from "../../shared/errors.js";
import type { CanvasLogLevel } from "./canvas-logger.js";

/** `workerData` of the canvas worker (`canvasHost.*` config, already resolved). */
export interface CanvasWorkerData {
  /** Canvas root. Default `~/clawd/canvas`. */
  root?: string;
  /** Bind address. Default `127.0.0.1`. */
  host?: string;
  /** Port. Default 18793; 0 picks a free port (reported in `listening`). */
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
}

/** Worker → parent. */
export type CanvasWorkerEvent =
  | { type: "listening"; port: number; url: string }
  | { type: "log"; level: CanvasLogLevel; msg: string; fields: Record<string, unknown> }
  | { type: "stopped" }
  | { type: "error"; error: WireError };

/** Parent → worker. */
export type CanvasWorkerCommand = { type: "stop" };
