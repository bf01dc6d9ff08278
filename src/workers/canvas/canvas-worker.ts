/**
 * Canvas worker entry (worker thread). Reads `CanvasWorkerData` from `workerData`, starts the
 * canvas host and speaks the protocol in `worker-protocol.ts`.
 *
 * Crash contract: any uncaught exception or unhandled rejection is reported as
 * `{type:'error'}` and the thread exits with code 1; the supervisor restarts it. This is safe
 * only because the server is `node:http` (see canvas-server.ts): a worker holding
 * uWebSockets.js handles would abort the whole process on the same path.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { WireError } from "../../shared/errors.js";
import type { CanvasLogger, CanvasLogLevel } from "./canvas-logger.js";
import { DEFAULT_CANVAS_HOST, DEFAULT_CANVAS_PORT, defaultCanvasRoot } from "./canvas-paths.js";
import type { CanvasServer } from "./canvas-server.js";
import { startCanvasServer } from "./canvas-server.js";
import type { CanvasWorkerCommand, CanvasWorkerData, CanvasWorkerEvent } from "./worker-protocol.js";

/** After `stop`, the thread normally exits by itself; this forces it if a handle lingers. */
const STOP_EXIT_FALLBACK_MS = 3000;

const port = parentPort;
if (!port) throw new Error("canvas-worker.ts must run in a worker thread");

function post(event: CanvasWorkerEvent): void {
  port?.postMessage(event);
}

function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const details: Record<string, unknown> = { name: e.name };
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === "string") details.code = code;
  if (e.stack) details.stack = e.stack;
  return { code: "GW_ERR_WORKER_UNAVAILABLE", message: `canvas host failed: ${e.message}`, details };
}

function fail(err: unknown): never {
  post({ type: "error", error: toWireError(err) });
  process.exit(1);
}

process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const log = (level: CanvasLogLevel) => (fields: Record<string, unknown>, msg: string) =>
  post({ type: "log", level, msg, fields });
const logger: CanvasLogger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };

const data = (workerData ?? {}) as CanvasWorkerData;
let server: CanvasServer | undefined;
let stopping = false;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), STOP_EXIT_FALLBACK_MS).unref();
  if (server) await finishStop(server); // else startup finishes the stop once listening
}

async function finishStop(running: CanvasServer): Promise<void> {
  await running.close();
  post({ type: "stopped" });
  // Let the thread end once the event loop is empty: the port is the last thing holding it.
  port?.unref();
}

port.on("message", (msg: CanvasWorkerCommand) => {
  switch (msg.type) {
    case "stop":
      void stop();
      return;
    default: {
      const unknown: never = msg.type;
      throw new Error(`canvas worker: unknown command ${JSON.stringify(unknown)}`);
    }
  }
});

try {
  server = await startCanvasServer({
    root: data.root ?? defaultCanvasRoot(),
    host: data.host ?? DEFAULT_CANVAS_HOST,
    port: data.port ?? DEFAULT_CANVAS_PORT,
    liveReload: data.liveReload,
    a2uiRoot: data.a2uiRoot,
    logger,
  });
} catch (err) {
  fail(err);
}
if (stopping) await finishStop(server);
else post({ type: "listening", port: server.port, url: server.url });
