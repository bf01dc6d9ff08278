/**
 * Canvas worker entry for the WorkerSupervisor (ring link): starts the canvas host from
 * `workerData.user`, answers `status`, forwards logs, and closes the server on `stop`.
 *
 * Crash contract: a startup failure (logged first, e.g. EADDRINUSE), an uncaught exception
 * or an unhandled rejection ends the thread with code 1; the supervisor fails in-flight requests with UNAVAILABLE and restarts the
 * worker with fresh rings. Safe only because the server is `node:http` (see
 * canvas-server.ts): uWS handles in a dying worker thread abort the whole process.
 */
import { workerData } from "node:worker_threads";
import { connectWorker, isWorkerLinkData } from "../../shared/ring/worker-link.js";
import type { WorkerEndpoint } from "../../shared/ring/worker-link.js";
import { CapabilityGate } from "./canvas-capability.js";
import type { CanvasLogger, CanvasLogLevel } from "./canvas-logger.js";
import { describeError } from "./canvas-logger.js";
import { DEFAULT_CANVAS_HOST, DEFAULT_CANVAS_PORT, defaultCanvasRoot } from "./canvas-paths.js";
import { startCanvasServer, type CanvasServer } from "./canvas-server.js";
import type { CanvasLinkProtocol, CanvasWorkerData } from "./canvas-link-protocol.js";

function die(err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`canvas worker: ${e.stack ?? e.message}\n`);
  process.exit(1);
}
process.on("uncaughtException", die);
process.on("unhandledRejection", die);

let server: CanvasServer | undefined;
let starting: Promise<CanvasServer> | undefined;
const data = ((isWorkerLinkData(workerData) ? workerData.user : undefined) ?? {}) as CanvasWorkerData;
// Exists before the link starts: main may have queued capability events in the ring already.
const gate = data.requireCapability === true ? new CapabilityGate() : undefined;

// deferListen: startCanvasServer stops right before its bind (`prepared`) until `listen` opens
// the gate; main releases the port it held in between, so the gap is one ring round trip.
let markPrepared: () => void = () => undefined;
const prepared = new Promise<void>((r) => (markPrepared = r));
let openGate: () => void = () => undefined;
const gateOpen = new Promise<void>((r) => (openGate = r));
const started = (): Promise<CanvasServer> => starting ?? Promise.reject(new Error("canvas host not started"));

const endpoint: WorkerEndpoint<CanvasLinkProtocol> = connectWorker<CanvasLinkProtocol>(
  {
    requests: {
      status: async () => {
        const s = await started();
        return { port: s.port, url: s.url, capabilities: gate ? gate.size : null };
      },
      prepare: async () => {
        await Promise.race([prepared, started()]);
        return {};
      },
      listen: async () => {
        openGate();
        const s = await started();
        return { port: s.port, url: s.url };
      },
    },
    events: {
      capGrant: (e) => gate?.apply(e),
      capRevoke: (e) => gate?.apply(e),
      capSync: (e) => gate?.apply(e),
    },
  },
  {
    onStop: async () => {
      const s = server ?? (await starting?.catch(() => undefined));
      await s?.close();
    },
  },
);

const emit = (level: CanvasLogLevel) => (fields: Record<string, unknown>, msg: string) => {
  endpoint.link.emit({ type: "log", level, msg, fields });
};
const logger: CanvasLogger = { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };

starting = startCanvasServer({
  root: data.root ?? defaultCanvasRoot(),
  host: data.host ?? DEFAULT_CANVAS_HOST,
  port: data.port ?? DEFAULT_CANVAS_PORT,
  liveReload: data.liveReload ?? true,
  a2uiRoot: data.a2uiRoot,
  logger,
  capabilities: gate,
  ...(data.deferListen === true
    ? {
        beforeListen: () => {
          markPrepared();
          return gateOpen;
        },
      }
    : {}),
});
try {
  server = await starting;
} catch (err) {
  // The record is in the ring before the thread exits; the supervisor drains it on exit,
  // so the gateway log says why (e.g. EADDRINUSE) next to "worker exited unexpectedly".
  logger.error({ err: describeError(err) }, "canvas: host failed to start");
  die(err);
}
