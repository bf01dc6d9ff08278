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

export interface CanvasLinkProtocol {
  worker: {
    requests: {
      /** Resolves once the canvas host listens. */
      status(p: Record<string, never>): { port: number; url: string; capabilities: number | null };
    };
    events: CapabilityEvent;
  };
  main: {
    requests: Record<string, never>;
    events: { type: "log"; level: CanvasLogLevel; msg: string; fields: Record<string, unknown> };
  };
}
