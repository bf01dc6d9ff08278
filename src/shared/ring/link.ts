/**
 * A typed request/response + event link over two rings (one per direction).
 *
 *   this thread                                        peer thread
 *   request("echo", p) --req{id}--> [outbound ring] --> handlers.requests.echo(p, ctx)
 *   resolve/reject     <--res|err{id}-- [inbound ring] <-- return / throw
 *   emit(event)        --event-->                       handlers.events[event.type](event)
 *   timeout / abort    --cancel{id}-->                  ctx.signal aborted
 *
 * Outbound writes never block the main thread: there the link uses MainRingWriter
 * (bounded overflow, GW_ERR_RING_OVERFLOW past it); in a worker it blocks in timed
 * `Atomics.wait` slices while the ring is full (backpressure onto the worker).
 * Inbound records are decoded from a heap copy and dispatched by an exhaustive switch;
 * an unknown frame, request or event type fails loudly through `onError`.
 */
import { isMainThread } from "node:worker_threads";
import { GatewayError } from "../errors.js";
import { cancelled, toWireError, wrapError } from "./link-errors.js";
import { assertNever, parseFrame } from "./link-frames.js";
import type {
  ControlFrame,
  LinkFrame,
  LinkOptions,
  LinkSide,
  RequestContext,
  RequestName,
  RequestOptions,
  RequestParams,
  RequestResult,
} from "./link-types.js";
import { createRingCodec } from "./ring-codec.js";
import type { RingCodec } from "./ring-codec.js";
import { attachRing, CLOSED_CONSUMER, CLOSED_PRODUCER, closeRing, ringGeneration } from "./ring-layout.js";
import type { RingView } from "./ring-layout.js";
import { MainRingWriter } from "./main-ring-writer.js";
import type { RecordSink } from "./main-ring-writer.js";
import { RingProducer } from "./ring-producer.js";
import { RingReader } from "./ring-reader.js";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: GatewayError) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

type AnyRequestHandler = (params: unknown, ctx: RequestContext) => unknown;
type AnyEventHandler = (event: { type: string }) => void;

/** Typed request/response and events over an inbound and an outbound ring (see the diagram above). */
export class Link<Local extends LinkSide, Remote extends LinkSide> {
  readonly name: string;
  /** Generation stamped into the outbound ring. */
  readonly generation: number;
  private readonly requestHandlers: Record<string, AnyRequestHandler | undefined>;
  private readonly eventHandlers: Record<string, AnyEventHandler | undefined>;
  private readonly onControl: (frame: ControlFrame) => void;
  private readonly onError: (err: GatewayError) => void;
  private readonly requestTimeoutMs: number;
  private readonly inboundView: RingView;
  private readonly outboundView: RingView;
  private readonly encoder: RingCodec;
  private readonly decoder: RingCodec;
  private readonly sink: RecordSink;
  private readonly overflowWriter: MainRingWriter | null;
  private readonly reader: RingReader;
  private readonly pending = new Map<number, Pending>();
  private readonly serving = new Map<number, AbortController>();
  private nextId = 0;
  private closedReason: GatewayError | null = null;

  constructor(options: LinkOptions<Local>) {
    this.name = options.name;
    this.requestHandlers = options.handlers.requests as unknown as Record<string, AnyRequestHandler | undefined>;
    this.eventHandlers = options.handlers.events as unknown as Record<string, AnyEventHandler | undefined>;
    this.onControl = options.onControl ?? (() => {});
    this.onError =
      options.onError ??
      ((err) => {
        process.nextTick(() => {
          throw err;
        });
      });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.inboundView = attachRing(options.inbound);
    this.outboundView = attachRing(options.outbound);
    this.generation = ringGeneration(this.outboundView);
    this.encoder = createRingCodec();
    this.decoder = createRingCodec();
    const producer = new RingProducer(this.outboundView);
    const mode = options.writeMode ?? (isMainThread ? "overflow" : "block");
    if (mode === "overflow") {
      this.overflowWriter = new MainRingWriter(producer, options.overflow);
      this.sink = this.overflowWriter;
    } else {
      this.overflowWriter = null;
      this.sink = { write: (bytes) => producer.writeBlocking(bytes) };
    }
    this.reader = new RingReader(this.inboundView, (payload) => this.dispatch(this.decoder.decode(payload)), {
      ...options.reader,
      onError: (err) => this.onError(err instanceof GatewayError ? err : wrapError(this.name, err)),
    });
  }

  /** Starts reading the inbound ring. Resolves when reading stops. */
  start(): Promise<void> {
    return this.reader.start();
  }

  /** Sends request `method` and resolves with the peer's result. */
  request<K extends RequestName<Remote>>(method: K, params: RequestParams<Remote, K>, options: RequestOptions = {}): Promise<RequestResult<Remote, K>> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancelled(this.name, method));
    const id = ++this.nextId;
    return new Promise<RequestResult<Remote, K>>((resolve, reject) => {
      try {
        this.send({ type: "req", id, method, params });
      } catch (err) {
        reject(err);
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.abandon(id, new GatewayError("GW_ERR_WORKER_TIMEOUT", `${this.name}: "${method}" got no answer within ${timeoutMs} ms; retry or raise the timeout`, { worker: this.name, method, timeoutMs }));
      }, timeoutMs);
      const onAbort = signal ? () => this.abandon(id, cancelled(this.name, method)) : undefined;
      if (signal && onAbort) signal.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer, signal, onAbort });
    });
  }

  /** Sends a one-way event to the peer. Throws if it cannot be written (overflow, closed). */
  emit(event: Remote["events"]): void {
    if (this.closedReason) throw this.closedReason;
    this.send({ type: "event", event });
  }

  /** Sends a control frame (`ready` from a worker, `stop` from the supervisor). */
  sendControl(frame: ControlFrame): void {
    if (this.closedReason) throw this.closedReason;
    this.send(frame);
  }

  /** Synchronously delivers every record the peer already published. */
  drainInbound(): number {
    return this.reader.drainNow();
  }

  /**
   * Closes this end: fails in-flight requests with `reason`, aborts handlers still running,
   * stops reading, and marks the rings so the peer stops writing to / waiting on us.
   * Returns how many records still queued for the peer were discarded (for the caller's log).
   */
  close(reason: GatewayError = new GatewayError("GW_ERR_RING_CLOSED", `${this.name}: link closed`)): number {
    if (this.closedReason) return 0;
    this.closedReason = reason;
    this.reader.close();
    const discarded = this.overflowWriter?.close(reason) ?? 0;
    closeRing(this.outboundView, CLOSED_PRODUCER);
    closeRing(this.inboundView, CLOSED_CONSUMER);
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(reason);
    }
    for (const ac of this.serving.values()) ac.abort(reason);
    this.serving.clear();
    return discarded;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Requests waiting for an answer from the peer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Overflow queue figures (main-thread links only). */
  overflowStats(): ReturnType<MainRingWriter["stats"]> | null {
    return this.overflowWriter?.stats() ?? null;
  }

  private send(frame: LinkFrame): void {
    this.sink.write(this.encoder.encode(frame));
  }

  private sendQuietly(frame: LinkFrame): void {
    if (this.closedReason) return;
    try {
      this.send(frame);
    } catch (err) {
      this.onError(wrapError(this.name, err));
    }
  }

  private abandon(id: number, err: GatewayError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id, p);
    this.sendQuietly({ type: "cancel", id });
    p.reject(err);
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (p.signal && p.onAbort) p.signal.removeEventListener("abort", p.onAbort);
  }

  private dispatch(value: unknown): void {
    const frame = parseFrame(value);
    switch (frame.type) {
      case "req":
        this.serve(frame.id, frame.method, frame.params);
        return;
      case "res":
      case "err": {
        const p = this.pending.get(frame.id);
        if (!p) return; // answer to a request that already timed out or was cancelled
        this.settle(frame.id, p);
        if (frame.type === "res") p.resolve(frame.result);
        else p.reject(GatewayError.fromWire(frame.error));
        return;
      }
      case "cancel":
        this.serving.get(frame.id)?.abort(cancelled(this.name, `#${frame.id}`));
        return;
      case "event": {
        const handler = Object.hasOwn(this.eventHandlers, frame.event.type) ? this.eventHandlers[frame.event.type] : undefined;
        if (!handler) throw new GatewayError("GW_ERR_PROTO_INVALID_FRAME", `${this.name}: no handler for event type "${frame.event.type}"; add it to the protocol's handlers`);
        handler(frame.event);
        return;
      }
      case "ready":
      case "stop":
        this.onControl(frame);
        return;
      default:
        assertNever(frame, "link frame");
    }
  }

  private serve(id: number, method: string, params: unknown): void {
    const handler = Object.hasOwn(this.requestHandlers, method) ? this.requestHandlers[method] : undefined;
    if (!handler) {
      const err = new GatewayError("GW_ERR_PROTO_UNKNOWN_METHOD", `${this.name}: no handler for request "${method}"; add it to the protocol's handlers`);
      this.sendQuietly({ type: "err", id, error: err.toWire() });
      this.onError(err);
      return;
    }
    const ac = new AbortController();
    this.serving.set(id, ac);
    new Promise<unknown>((resolve) => resolve(handler(params, { signal: ac.signal, id }))).then(
      (result) => {
        this.serving.delete(id);
        this.sendQuietly({ type: "res", id, result });
      },
      (err: unknown) => {
        this.serving.delete(id);
        this.sendQuietly({ type: "err", id, error: toWireError(this.name, method, err) });
      },
    );
  }
}
