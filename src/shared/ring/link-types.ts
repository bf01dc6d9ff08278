/**
 * Types of the request/event link that runs over a pair of rings.
 *
 * A worker protocol names what each side serves:
 *
 *   interface EchoProtocol {
 *     worker: {                       // served by the worker, called by main
 *       requests: { echo(p: { text: string }): { text: string } };
 *       events: { type: "pause" } | { type: "resume" };
 *     };
 *     main: {                         // served by main, called by the worker
 *       requests: {};
 *       events: { type: "tick"; n: number };
 *     };
 *   }
 *
 * Request signatures are types only (nothing implements the interface); handlers are
 * a mapped object with one entry per request name and per event `type`, so forgetting
 * one is a compile error, and an unknown name arriving at run time fails loudly.
 */
import type { GatewayError, WireError } from "../errors.js";
import type { MainRingWriterOptions } from "./main-ring-writer.js";
import type { RingBuffers } from "./ring-layout.js";
import type { RingReaderOptions } from "./ring-reader.js";

/** What one side of a link serves. */
export interface LinkSide {
  /** Requests this side answers, as method signatures: `name(params): result`. */
  requests: object;
  /** One-way events this side accepts: a discriminated union on `type` (or `never`). */
  events: { type: string };
}

/** A worker's protocol: what the worker serves and what the main thread serves. */
export interface WorkerProtocol {
  worker: LinkSide;
  main: LinkSide;
}

/** Request names of a side. */
export type RequestName<S extends LinkSide> = keyof S["requests"] & string;

/** Parameters of request `K`. */
export type RequestParams<S extends LinkSide, K extends RequestName<S>> = S["requests"][K] extends (params: infer P) => unknown ? P : never;

/** Result of request `K` (promises unwrapped). */
export type RequestResult<S extends LinkSide, K extends RequestName<S>> = S["requests"][K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** Handed to every request handler. */
export interface RequestContext {
  /** Aborted when the caller cancels or times out, or the link closes. */
  signal: AbortSignal;
  /** Link-local request id (for logs). */
  id: number;
}

/** One handler per request name. */
export type RequestHandlers<S extends LinkSide> = {
  [K in RequestName<S>]: (params: RequestParams<S, K>, ctx: RequestContext) => RequestResult<S, K> | Promise<RequestResult<S, K>>;
};

/** One handler per event `type`. */
export type EventHandlers<S extends LinkSide> = {
  [T in S["events"]["type"]]: (event: Extract<S["events"], { type: T }>) => void;
};

/** Everything a side must handle. */
export interface LinkHandlers<S extends LinkSide> {
  requests: RequestHandlers<S>;
  events: EventHandlers<S>;
}

/** Per-request options. */
export interface RequestOptions {
  /** Fail with GW_ERR_WORKER_TIMEOUT after this many ms. Default: the link's requestTimeoutMs (30 000). */
  timeoutMs?: number;
  /** Aborting fails the request with GW_ERR_WORKER_CANCELLED and tells the other side. */
  signal?: AbortSignal;
}

/**
 * Frames on the wire (msgpackr maps), a discriminated union on `type`.
 * `ready` and `stop` are the supervisor's control frames.
 */
export type LinkFrame =
  | { type: "req"; id: number; method: string; params: unknown }
  | { type: "res"; id: number; result: unknown }
  | { type: "err"; id: number; error: WireError }
  | { type: "cancel"; id: number }
  | { type: "event"; event: { type: string } }
  | { type: "ready"; generation: number }
  | { type: "stop" };

/** Control frames delivered to the link's owner rather than to handlers. */
export type ControlFrame = Extract<LinkFrame, { type: "ready" | "stop" }>;

/** Options of a Link. */
export interface LinkOptions<Local extends LinkSide> {
  /** Name used in error messages, e.g. the worker's name. */
  name: string;
  /** Ring this side reads. */
  inbound: RingBuffers;
  /** Ring this side writes. */
  outbound: RingBuffers;
  /** Handlers for every request and event this side serves. */
  handlers: LinkHandlers<Local>;
  /** Receives `ready` / `stop` control frames. Default: ignored. */
  onControl?: (frame: ControlFrame) => void;
  /** Protocol violations, failed sends of responses, ring corruption. Default: thrown on next tick (loud). */
  onError?: (err: GatewayError) => void;
  /** Default per-request timeout in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** "overflow" (never blocks; main thread) or "block" (Atomics.wait while full; workers). Default by thread. */
  writeMode?: "overflow" | "block";
  /** Overflow queue bounds for writeMode "overflow". Defaults: see MainRingWriterOptions. */
  overflow?: MainRingWriterOptions;
  /** Batch and wait tuning of the inbound reader. Defaults: see RingReaderOptions. */
  reader?: Omit<RingReaderOptions, "onError">;
}
