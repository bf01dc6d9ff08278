/**
 * Subsystems that run in supervised worker threads next to the server, started and
 * stopped with each gateway instance. Today: the canvas host on its own port.
 *
 * On a non-loopback bind the canvas host serves only under a per-session capability
 * (`hello-ok.canvasHostUrl` = `http://host:port/__cap/<token>`); the issuer here grants it
 * at hello-ok, revokes it when the session closes, and re-sends the whole set to every new
 * worker incarnation (see workers/canvas/canvas-capability.ts).
 *
 * A worker that cannot start never blocks the gateway: its supervisor keeps retrying
 * with backoff (or trips its breaker) and its state shows in `health`/`status`.
 */
import net from "node:net";
import type { Logger } from "pino";
import { WorkerSupervisor } from "../workers/worker-supervisor.js";
import type { WorkerState } from "../workers/supervisor-types.js";
import { isLoopbackAddress } from "../auth/client-ip.js";
import { CanvasCapabilityIssuer } from "../../workers/canvas/canvas-capability.js";
import type { CanvasLinkProtocol, CanvasWorkerData } from "../../workers/canvas/canvas-link-protocol.js";
import type { GatewayExtraDeps } from "../gateway.js";
import type { WorkerHealth } from "../health/health-summary.js";
import type { ResolvedRuntime } from "./runtime-options.js";

/** How long the gateway waits for the canvas host before starting without it. */
const CANVAS_START_WAIT_MS = 10_000;

export interface WorkerExtras {
  deps: GatewayExtraDeps;
  stop: () => Promise<void>;
  /** The canvas supervisor, when the canvas host is enabled. */
  canvas: WorkerSupervisor<CanvasLinkProtocol> | null;
  /** Capability issuer, when the canvas host runs on a non-loopback bind. */
  canvasCapabilities: CanvasCapabilityIssuer | null;
}

/** True when `host` only accepts connections from this machine (no capability needed). */
export function isLoopbackBind(host: string): boolean {
  return host === "localhost" || isLoopbackAddress(host);
}

/** Worker entries live next to this module: `.ts` under tsx, `.js` once compiled. */
function workerEntry(rel: string): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`${rel}${ext}`, import.meta.url);
}

/** A free port on `host` (port 0 must stay the same across worker restarts). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function toHealth(s: WorkerState): WorkerHealth {
  const h: WorkerHealth = { name: s.name, state: s.state, restarts: s.restarts, generation: s.generation };
  if (s.lastError) h.lastError = s.lastError;
  return h;
}

export async function startWorkerExtras(runtime: ResolvedRuntime, log: Logger): Promise<WorkerExtras> {
  const supervisors: WorkerSupervisor<CanvasLinkProtocol>[] = [];
  let canvas: WorkerSupervisor<CanvasLinkProtocol> | null = null;
  let capabilities: CanvasCapabilityIssuer | null = null;
  if (runtime.canvas.enabled) {
    const host = runtime.options.host;
    const port = runtime.canvas.port === 0 ? await freePort(host) : runtime.canvas.port;
    const requireCapability = !isLoopbackBind(host);
    const data: CanvasWorkerData = { root: runtime.canvas.root, host, port, liveReload: runtime.canvas.liveReload, requireCapability };
    const canvasLog = log.child({ worker: "canvas" });
    canvas = new WorkerSupervisor<CanvasLinkProtocol>({
      name: "canvas",
      entry: workerEntry("../../workers/canvas/canvas-link-worker"),
      workerData: data,
      handlers: { requests: {}, events: { log: (e) => canvasLog[e.level](e.fields, e.msg) } },
      logger: log,
    });
    supervisors.push(canvas);
    if (requireCapability) {
      const sup = canvas;
      const issuer = new CanvasCapabilityIssuer((e) => sup.emit(e));
      capabilities = issuer;
      // Every incarnation gets fresh rings and an empty set: send the whole set as soon as
      // its ring exists ('starting'); later grants and revokes queue behind it, in order.
      let syncedGeneration = 0;
      sup.onStateChange((st) => {
        if (st.state === "starting" && st.generation !== syncedGeneration) {
          syncedGeneration = st.generation;
          issuer.sync();
        }
      });
    }
    runtime.options.canvasHostPort = port;
    try {
      await canvas.start();
      const st = await canvas.request("status", {}, { timeoutMs: CANVAS_START_WAIT_MS });
      log.info({ url: st.url }, "canvas host listening");
    } catch (err) {
      log.error({ err: String(err), port }, "canvas host did not start; the gateway runs without it and keeps retrying");
    }
  }
  const issuer = capabilities;
  return {
    canvas,
    canvasCapabilities: issuer,
    deps: {
      healthSources: { workers: () => supervisors.map((s) => toHealth(s.getState())) },
      ...(issuer ? { canvasAccess: issuer, hooks: { onDisconnected: (conn) => issuer.revoke(conn.connId) } } : {}),
    },
    stop: async () => {
      issuer?.close();
      await Promise.all(supervisors.map((s) => s.stop(3000).catch(() => undefined)));
    },
  };
}
