/**
 * Request/reply between gateways on each gateway's own subject (`names.gatewayRpc(id)`).
 * One subscription per gateway serves every operation: a request is `{op, params}`, the
 * reply `{ok:true, result}` or `{ok:false, error}` with the owner's GatewayError as its
 * wire record, so the caller rethrows exactly what a local call would have thrown (same
 * code, message and details). Subsystems register their operation with `handle`.
 *
 * Transport failures are the caller's: broker down → GW_ERR_CLUSTER_UNAVAILABLE, nobody
 * subscribed (the gateway died) or no answer in time → GW_ERR_CLUSTER_GATEWAY_UNREACHABLE;
 * both retryable.
 */
import type { Msg, Subscription } from "@nats-io/transport-node";
import { RequestError, TimeoutError } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { GatewayError, type WireError } from "../../shared/errors.js";
import type { ClusterConnection } from "./cluster-connection.js";

/** Serves one operation; throws GatewayError for protocol-level failures. */
export type RpcHandler = (params: unknown) => Promise<unknown>;

type RpcReply = { ok: true; result: unknown } | { ok: false; error: WireError };

interface RpcRequest {
  op: string;
  params: unknown;
}

export interface GatewayRpcDeps {
  connection: ClusterConnection;
  /** Subject of a gateway's inbox (`names.gatewayRpc`). */
  subjectOf(gatewayId: string): string;
  gatewayId: string;
  log: Logger;
}

/** This gateway's RPC server and client. */
export class GatewayRpc {
  private readonly handlers = new Map<string, RpcHandler>();
  private sub: Subscription | null = null;
  /** Requests in flight per target gateway, so a gateway that leaves fails them at once. */
  private readonly inflight = new Map<string, Set<(err: GatewayError) => void>>();

  constructor(private readonly deps: GatewayRpcDeps) {}

  /** Registers the handler of `op` (one per op). */
  handle(op: string, fn: RpcHandler): void {
    if (this.handlers.has(op)) throw new GatewayError("GW_ERR_MODULE_GRAPH", `gateway rpc op "${op}" registered twice`, { op });
    this.handlers.set(op, fn);
  }

  /** Subscribes at the first connect; the client re-subscribes by itself after reconnects. */
  start(): void {
    this.deps.connection.onConnected((h) => {
      if (this.sub && !this.sub.isClosed()) return;
      this.sub = h.nc.subscribe(this.deps.subjectOf(this.deps.gatewayId), { callback: (err, msg) => {
        if (!err) void this.serve(msg);
      } });
    });
  }

  private async serve(msg: Msg): Promise<void> {
    let reply: RpcReply;
    try {
      const req = msg.json<RpcRequest>();
      const fn = this.handlers.get(req.op);
      if (!fn) throw new GatewayError("GW_ERR_PROTO_UNKNOWN_METHOD", `gateway rpc op "${req.op}" is not served by ${this.deps.gatewayId} (version mismatch between gateways?)`);
      reply = { ok: true, result: await fn(req.params) };
    } catch (err) {
      const ge = err instanceof GatewayError ? err : new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      reply = { ok: false, error: ge.toWire() };
    }
    if (!msg.respond(JSON.stringify(reply))) this.deps.log.debug({ reply: msg.reply }, "cluster: rpc reply not sent (no reply subject or connection closed)");
  }

  /**
   * Calls `op` on gateway `gatewayId` and returns its result or throws its GatewayError.
   * `timeoutMs` bounds the whole exchange.
   */
  async request<T>(gatewayId: string, op: string, params: unknown, timeoutMs: number): Promise<T> {
    const h = this.deps.connection.current();
    if (!h) throw unavailable();
    let fail!: (err: GatewayError) => void;
    const early = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const set = this.inflight.get(gatewayId) ?? new Set();
    this.inflight.set(gatewayId, set);
    set.add(fail);
    try {
      const msg = await Promise.race([h.nc.request(this.deps.subjectOf(gatewayId), JSON.stringify({ op, params } satisfies RpcRequest), { timeout: timeoutMs }), early]);
      const reply = msg.json<RpcReply>();
      if (reply.ok) return reply.result as T;
      throw GatewayError.fromWire(reply.error);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw this.transportError(gatewayId, err);
    } finally {
      set.delete(fail);
      if (set.size === 0) this.inflight.delete(gatewayId);
    }
  }

  /** Fails the requests in flight to a gateway that left the cluster. */
  gatewayLeft(gatewayId: string): void {
    const set = this.inflight.get(gatewayId);
    if (!set) return;
    // A gateway "leaves" for everyone when this gateway loses the broker: say which it is.
    const err = this.deps.connection.available() ? unreachable(gatewayId, "it left the cluster") : unavailable();
    for (const fail of [...set]) fail(err);
  }

  private transportError(gatewayId: string, err: unknown): GatewayError {
    if (!this.deps.connection.available()) return unavailable();
    if (err instanceof RequestError && err.isNoResponders()) return unreachable(gatewayId, "nobody serves its inbox");
    if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) return unreachable(gatewayId, "no answer in time");
    return unreachable(gatewayId, err instanceof Error ? err.message : String(err));
  }

  /** Unsubscribes (the connection drains at the cluster module's stop). */
  close(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    for (const id of [...this.inflight.keys()]) this.gatewayLeft(id);
  }
}

function unavailable(): GatewayError {
  return new GatewayError("GW_ERR_CLUSTER_UNAVAILABLE", "cluster broker unavailable: cannot reach other gateways; retry");
}

function unreachable(gatewayId: string, why: string): GatewayError {
  return new GatewayError("GW_ERR_CLUSTER_GATEWAY_UNREACHABLE", `gateway ${gatewayId} unreachable (${why}); retry`, { gatewayId });
}
