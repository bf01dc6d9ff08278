/**
 * The plumbing both ends of a supervised worker agree on: what travels in
 * `workerData`, the heartbeat slot, and the worker-side `connectWorker()`.
 *
 *   main (supervisor)                           worker
 *   toWorker ring: producer (MainRingWriter) -> consumer (RingReader, waitAsync)
 *   toMain ring:   consumer (RingReader)    <-  producer (blocking writes)
 *                  HEARTBEAT slot (read)    <-  bumped every heartbeatIntervalMs
 *
 * The heartbeat lives in the toMain control block's liveness line: the worker is that
 * ring's producer, so the slot is written by one thread only. It is bumped from a timer
 * (the worker's event loop is turning) and from the blocking-write slices (a worker
 * held back by a full ring is still alive).
 */
import { workerData } from "node:worker_threads";
import { GatewayError } from "../errors.js";
import { Link } from "./link.js";
import type { LinkHandlers, WorkerProtocol } from "./link-types.js";
import { CONTROL_BYTES, createRingBuffers, CTRL } from "./ring-layout.js";
import type { RingBuffers } from "./ring-layout.js";

const KIND = "clawgate.worker-link";

/** What a supervised worker receives as `workerData`. */
export interface WorkerLinkData {
  kind: typeof KIND;
  name: string;
  generation: number;
  toWorker: RingBuffers;
  toMain: RingBuffers;
  heartbeatIntervalMs: number;
  /** The supervisor's `workerData` option, passed through untouched. */
  user: unknown;
}

/** Allocates fresh rings for one worker generation. */
export function createWorkerLinkData(name: string, generation: number, ringBytes: number, heartbeatIntervalMs: number, user: unknown): WorkerLinkData {
  return {
    kind: KIND,
    name,
    generation,
    toWorker: createRingBuffers(ringBytes, generation),
    toMain: createRingBuffers(ringBytes, generation),
    heartbeatIntervalMs,
    user,
  };
}

/** True when `value` is a WorkerLinkData. */
export function isWorkerLinkData(value: unknown): value is WorkerLinkData {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === KIND;
}

function heartbeatSlot(ring: RingBuffers): Int32Array {
  return new Int32Array(ring.control, 0, CONTROL_BYTES / 4);
}

/** Bumps the heartbeat of a ring's liveness line. */
export function bumpHeartbeat(ring: RingBuffers): void {
  Atomics.add(heartbeatSlot(ring), CTRL.HEARTBEAT, 1);
}

/** Reads the heartbeat counter of a ring's liveness line. */
export function readHeartbeat(ring: RingBuffers): number {
  return Atomics.load(heartbeatSlot(ring), CTRL.HEARTBEAT) >>> 0;
}

/** Options of connectWorker. */
export interface ConnectWorkerOptions {
  /** Called when the supervisor asks the worker to stop; release sockets/timers here so the thread can exit. Default: none. */
  onStop?: () => void | Promise<void>;
  /** Protocol errors. Default: thrown (the worker crashes loudly and the supervisor restarts it). */
  onError?: (err: GatewayError) => void;
  /** Timeout in ms of requests the worker makes to main. Default 30 000. */
  requestTimeoutMs?: number;
}

/** A connected worker end. */
export interface WorkerEndpoint<P extends WorkerProtocol> {
  link: Link<P["worker"], P["main"]>;
  name: string;
  generation: number;
  /** The supervisor's `workerData` option. */
  user: unknown;
  /** Closes the link and stops the heartbeat (the thread can then exit). */
  close(): void;
}

/**
 * Worker side: attaches to the rings in `workerData`, starts serving `handlers`, starts
 * the heartbeat, and tells the supervisor it is ready. A `stop` frame runs `onStop`,
 * then closes the link; with nothing else ref'd the thread then exits with code 0.
 */
export function connectWorker<P extends WorkerProtocol>(handlers: LinkHandlers<P["worker"]>, options: ConnectWorkerOptions = {}, data: unknown = workerData): WorkerEndpoint<P> {
  if (!isWorkerLinkData(data)) {
    throw new GatewayError("GW_ERR_WORKER_UNAVAILABLE", "connectWorker: workerData is not a worker link; start this module through WorkerSupervisor");
  }
  const heartbeat = setInterval(() => bumpHeartbeat(data.toMain), data.heartbeatIntervalMs);
  heartbeat.unref();
  let stopping = false;
  const link: Link<P["worker"], P["main"]> = new Link<P["worker"], P["main"]>({
    name: data.name,
    inbound: data.toWorker,
    outbound: data.toMain,
    handlers,
    writeMode: "block",
    requestTimeoutMs: options.requestTimeoutMs,
    onError: options.onError,
    onControl: (frame) => {
      if (frame.type !== "stop" || stopping) return;
      stopping = true;
      void Promise.resolve()
        .then(() => options.onStop?.())
        .then(
          () => endpoint.close(),
          (err: unknown) => {
            endpoint.close();
            const e = err instanceof Error ? err : new Error(String(err));
            const wrapped = new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `${data.name}: onStop failed: ${e.message}`, undefined, { cause: err });
            if (options.onError) options.onError(wrapped);
            else throw wrapped;
          },
        );
    },
  });
  const endpoint: WorkerEndpoint<P> = {
    link,
    name: data.name,
    generation: data.generation,
    user: data.user,
    close() {
      clearInterval(heartbeat);
      link.close(new GatewayError("GW_ERR_WORKER_UNAVAILABLE", `${data.name}: worker is stopping`, { worker: data.name }));
    },
  };
  bumpHeartbeat(data.toMain);
  void link.start();
  link.sendControl({ type: "ready", generation: data.generation });
  return endpoint;
}
