/**
 * Post-handshake dispatch (§3.0): authorise by role/scopes (before lookup, so unknown
 * methods get scope errors too) → look up → validate params with the precompiled
 * validator → run → `res`. Handlers run asynchronously; responses may arrive out of
 * order. A handler may send extra `res` frames for the same id (`agent`'s two-stage
 * answer) through `call.respond`.
 */
import { GatewayError, toErrorShape, type ErrorShape } from "../shared/errors.js";
import { authorizeMethod } from "../shared/protocol/scopes.js";
import { check } from "../shared/protocol/validate.js";
import type { ProtocolSchemaName } from "../shared/protocol/schema/index.js";
import type { ProtocolTypes } from "../shared/protocol/generated/types.js";
import { Phase, type Connection } from "./socket/connection.js";
import { CLOSE_POLICY } from "./socket/transport.js";
import { gatewayMetrics } from "./metrics/gateway-metrics.js";
import { DENIED_CALL_CLOSE_REASON, takeDeniedCall } from "./auth/denied-call-limit.js";
import type { GatewayContext, InflightRequest } from "./gateway-context.js";

export interface MethodCall<P = unknown> {
  ctx: GatewayContext;
  conn: Connection;
  id: string;
  method: string;
  params: P;
  /** Sends an additional `res` for this request id (e.g. an ack before the final). */
  respond: (ok: boolean, payload?: unknown, error?: ErrorShape) => void;
}

/** Returns the payload (→ ok:true), a `RawJson` (pre-serialised payload), or throws. */
export type MethodHandler<P = unknown> = (call: MethodCall<P>) => unknown;

/**
 * Returned by a handler that already sent its last `res` through `call.respond` (e.g. an
 * `ok:false` answer that also carries a payload): the router sends nothing more.
 */
export const RESPONDED: unique symbol = Symbol("responded");

/** A payload already serialised (cached snapshots). */
export class RawJson {
  constructor(readonly json: string) {}
}

interface Entry {
  handler: MethodHandler<never>;
  schema: ProtocolSchemaName | undefined;
  advertise: boolean;
}

export class MethodTable {
  private readonly entries = new Map<string, Entry>();

  /** Registers a handler whose params are validated against `schema`. */
  add<S extends ProtocolSchemaName>(name: string, schema: S, handler: MethodHandler<ProtocolTypes[S]>, advertise?: boolean): void;
  /** Registers a handler without params validation (the reference validates none for it). */
  add(name: string, schema: undefined, handler: MethodHandler<Record<string, unknown>>, advertise?: boolean): void;
  add(name: string, schema: ProtocolSchemaName | undefined, handler: MethodHandler<never>, advertise = true): void {
    this.entries.set(name, { handler, schema, advertise });
  }

  get(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  /** Methods advertised in hello-ok. */
  advertised(): string[] {
    return [...this.entries].filter(([, e]) => e.advertise).map(([n]) => n);
  }
}

/** Dispatches one validated request frame to its handler in `methods`. */
export function dispatch(
  ctx: GatewayContext,
  methods: MethodTable,
  conn: Connection,
  id: string,
  method: string,
  rawParams: unknown,
): void {
  let req: InflightRequest | null = null;
  const respond = (ok: boolean, payload?: unknown, error?: ErrorShape): void => {
    // Shutdown already answered this request (UNAVAILABLE): never answer it twice.
    if (req?.answered) return;
    if (ok) ctx.transport.sendOk(conn, id, payload);
    else ctx.transport.sendError(conn, id, error ?? { code: "UNAVAILABLE", message: "failed" }, payload);
  };
  if (ctx.shuttingDown) {
    respond(false, undefined, { code: "UNAVAILABLE", message: "gateway is shutting down; reconnect after the restart", retryable: true });
    return;
  }
  const denied = authorizeMethod(conn.role, conn.scopes, method);
  if (denied) {
    respond(false, undefined, { code: "INVALID_REQUEST", message: denied });
    if (!takeDeniedCall(conn)) {
      ctx.log.warn({ connId: conn.connId, ip: conn.info.clientIp, method }, "too many unauthorized requests; closing");
      ctx.transport.close(conn, CLOSE_POLICY, DENIED_CALL_CLOSE_REASON);
    }
    return;
  }
  const entry = methods.get(method);
  if (!entry) {
    respond(false, undefined, { code: "INVALID_REQUEST", message: `unknown method: ${method}` });
    return;
  }
  const t0 = performance.now();
  let params: unknown = rawParams ?? {};
  if (entry.schema) {
    const r = check(entry.schema, params);
    if (!r.ok) {
      respond(false, undefined, { code: "INVALID_REQUEST", message: `invalid ${method} params: ${r.details}` });
      return;
    }
    params = r.value;
  } else if (typeof params !== "object" || params === null || Array.isArray(params)) {
    params = {};
  }
  const call: MethodCall<never> = { ctx, conn, id, method, params: params as never, respond };
  const finish = (result: unknown): void => {
    gatewayMetrics.rpcDone(method, t0);
    if (req) ctx.inflight.end(req);
    if (conn.phase === Phase.Closed || req?.answered || result === RESPONDED) return;
    if (result instanceof RawJson) ctx.transport.sendOkRaw(conn, id, result.json);
    else respond(true, result);
  };
  const fail = (err: unknown): void => {
    gatewayMetrics.rpcDone(method, t0);
    if (req) ctx.inflight.end(req);
    if (conn.phase === Phase.Closed || req?.answered) return;
    if (!(err instanceof GatewayError)) ctx.log.warn({ method, err: String(err) }, "method handler failed");
    respond(false, undefined, toErrorShape(err));
  };
  let out: unknown;
  try {
    out = entry.handler(call);
  } catch (err) {
    fail(err);
    return;
  }
  // Only requests that outlive this call are tracked (shutdown waits for / answers them);
  // synchronous handlers (health, status…) answer at once and cost no bookkeeping.
  if (out instanceof Promise) {
    req = ctx.inflight.begin(conn, id);
    out.then(finish, fail);
  } else finish(out);
}
