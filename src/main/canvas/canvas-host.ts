/**
 * The `canvas-host` module: the canvas file server in a supervised, ring-linked worker
 * on its own port (base + 4 by default), advertised in `hello-ok.canvasHostUrl`.
 *
 * On a non-loopback bind the canvas host serves only under a per-session capability
 * (`hello-ok.canvasHostUrl` = `http://host:port/__cap/<token>`); the issuer here grants it
 * at hello-ok, revokes it when the session closes, and re-sends the whole set to every new
 * worker incarnation (see workers/canvas/canvas-capability.ts).
 *
 * A worker that cannot start never blocks the gateway: its supervisor keeps retrying
 * with backoff (or trips its breaker) and its state shows in the `workers` health
 * section (`health`/`status`).
 *
 * Start-up: by default the worker starts only when the canvas is first used. The module binds
 * the canvas port on the main thread (`CanvasPortKeeper`: the URL in `hello-ok` needs only
 * the port, and it must accept from the start); the first connection starts the worker, which
 * prepares everything but its bind, then takes the port over (release → `listen`), and the
 * connections accepted meanwhile are relayed to it. A gateway whose canvas is never opened
 * never pays for the worker thread (~15 MB RSS). Every later incarnation (restart) is told
 * to `listen` as soon as it runs. With `startWorker: "at-start"` (or when the port cannot be
 * held) the worker is spawned at start without being awaited, and binds the port itself.
 */
import { existsSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { WorkerSupervisor } from "../workers/worker-supervisor.js";
import { CanvasPortKeeper } from "./canvas-port-keeper.js";
import type { WorkerState } from "../workers/supervisor-types.js";
import { isLoopbackAddress } from "../auth/client-ip.js";
import { CanvasCapabilityIssuer } from "../../workers/canvas/canvas-capability.js";
import type { CanvasLinkProtocol, CanvasWorkerData } from "../../workers/canvas/canvas-link-protocol.js";
import type { WorkerHealth } from "../health/health-summary.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { defaultA2uiDir } from "../a2ui/a2ui-module.js";
import type { CanvasHostResolved } from "../../shared/config/schema/canvas-host.js";

export const CANVAS_HOST_MODULE = "canvas-host";

/** How long the first `status` may take before the start is logged as failed (the supervisor keeps retrying). */
const CANVAS_START_WAIT_MS = 10_000;

/** True when `host` only accepts connections from this machine (no capability needed). */
export function isLoopbackBind(host: string): boolean {
  return host === "localhost" || isLoopbackAddress(host);
}

/** Worker entries live next to their source: `.ts` under tsx, `.js` once compiled. */
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

/** The built A2UI page directory, when `npm run build` produced it. */
function builtA2uiDir(): string | undefined {
  const dir = defaultA2uiDir();
  return existsSync(join(dir, "index.html")) ? dir : undefined;
}

/**
 * Resolved canvas host settings (`canvasHost.*` with every key present, after
 * `CLAWDBOT_SKIP_CANVAS_HOST`). Root default `~/clawd/canvas`; port default gateway port + 4
 * (0 picks a free one at start, kept across worker restarts); live reload default true.
 */
export type CanvasHostOptions = CanvasHostResolved & {
  /**
   * Directory of the A2UI page served at `/__clawdbot__/a2ui/`. Default: the page built from
   * `@a2ui/lit` by `npm run build` (`dist/a2ui`, the one the gateway port serves) when it
   * exists, else the worker's built-in fallback page.
   */
  a2uiRoot?: string;
  /**
   * When the canvas worker thread starts: at the first connection to the canvas port
   * (`"on-first-connection"`, the port is held by the main thread until then) or at gateway
   * start (`"at-start"`). Default `"on-first-connection"`.
   */
  startWorker?: "on-first-connection" | "at-start";
};

/** Where the main thread reaches a listener bound to `host` (wildcards → loopback). */
function dialHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/** The canvas host module, or none when the canvas host is disabled. */
export function canvasHostModules(canvas: CanvasHostOptions): GatewayModuleDef[] {
  return canvas.enabled ? [canvasHostModule(canvas)] : [];
}

/** Exposed as the module's `api`: the supervisor, for status and tests. */
export type CanvasHostApi = WorkerSupervisor<CanvasLinkProtocol>;

export function canvasHostModule(canvas: CanvasHostOptions): GatewayModuleDef {
  return {
    name: CANVAS_HOST_MODULE,
    register(r) {
      const { log, live } = r.core;
      let supervisor: WorkerSupervisor<CanvasLinkProtocol> | null = null;
      let issuer: CanvasCapabilityIssuer | null = null;
      r.listen({ closed: (conn) => issuer?.revoke(conn.connId) });
      const canvasLog = log.child({ worker: "canvas" });
      let keeper: CanvasPortKeeper | null = null;
      // Until the first connection only the keeper exists: "idle" counts as ready (/readyz).
      r.healthSection("workers", () => {
        if (!supervisor) return [];
        const st = supervisor.getState();
        if (keeper?.holding && st.state === "stopped") return [{ name: st.name, state: "idle", restarts: 0, generation: 0 }];
        return [toHealth(st)];
      });
      const lifecycle = {
        api: undefined as CanvasHostApi | undefined,
        start: async (): Promise<void> => {
          const host = live.current.host;
          let port = canvas.port;
          // Until the supervisor exists a first connection is only noted (started below).
          let firstConnection = false;
          let startNow = (): void => {
            firstConnection = true;
          };
          if (canvas.startWorker !== "at-start") {
            try {
              keeper = await CanvasPortKeeper.open(host, canvas.port, () => startNow());
              port = keeper.port;
            } catch (err) {
              log.warn({ err: String(err), port }, "canvas port could not be held until first use; starting the canvas worker now");
            }
          }
          if (port === 0) port = await freePort(host);
          const requireCapability = !isLoopbackBind(host);
          const a2uiRoot = canvas.a2uiRoot ?? builtA2uiDir();
          const deferListen = keeper !== null;
          const data: CanvasWorkerData = { root: canvas.root, host, port, liveReload: canvas.liveReload, requireCapability, deferListen, ...(a2uiRoot ? { a2uiRoot } : {}) };
          const sup = new WorkerSupervisor<CanvasLinkProtocol>({
            name: "canvas",
            entry: workerEntry("../../workers/canvas/canvas-link-worker"),
            workerData: data,
            handlers: { requests: {}, events: { log: (e) => canvasLog[e.level](e.fields, e.msg) } },
            logger: log,
          });
          supervisor = sup;
          lifecycle.api = sup;
          if (requireCapability) {
            const iss = new CanvasCapabilityIssuer((e) => sup.emit(e));
            issuer = iss;
            r.core.canvasAccess = iss;
            // Every incarnation gets fresh rings and an empty set: send the whole set as soon
            // as its ring exists ('starting'); later grants and revokes queue behind it, in order.
            let syncedGeneration = 0;
            sup.onStateChange((st) => {
              if (st.state === "starting" && st.generation !== syncedGeneration) {
                syncedGeneration = st.generation;
                iss.sync();
              }
            });
          }
          const held = keeper;
          if (held) {
            // Each incarnation waits for `listen`; the first one also takes the port over from
            // the keeper (prepare → release → listen) and gets the connections it held.
            let listeningGeneration = 0;
            sup.onStateChange((st) => {
              if (st.state === "broken") held.close();
              if (st.state !== "running" || st.generation === listeningGeneration) return;
              listeningGeneration = st.generation;
              void (async () => {
                if (held.holding) {
                  await sup.request("prepare", {}, { timeoutMs: CANVAS_START_WAIT_MS });
                  held.release();
                }
                const bound = await sup.request("listen", {}, { timeoutMs: CANVAS_START_WAIT_MS });
                held.forward(dialHost(host), bound.port);
              })().catch(() => undefined);
            });
          }
          live.current.canvasHostPort = port;
          // Not awaited: the worker's start-up stays off the gateway's critical path (see above).
          startNow = () => {
            sup
              .start()
              .then(() => sup.request("status", {}, { timeoutMs: CANVAS_START_WAIT_MS }))
              .then(
                (st) => log.info({ url: st.url }, "canvas host listening"),
                (err: unknown) => {
                  if (sup.getState().state === "stopping" || sup.getState().state === "stopped") return;
                  log.error({ err: String(err), port }, "canvas host did not start; the gateway runs without it and keeps retrying");
                },
              );
          };
          if (held) log.debug({ port }, "canvas port held; the canvas worker starts at the first connection");
          else startNow();
          if (held && firstConnection) startNow();
        },
        stop: async (): Promise<void> => {
          keeper?.close();
          issuer?.close();
          await supervisor?.stop(3000).catch(() => undefined);
        },
      };
      return lifecycle;
    },
  };
}
