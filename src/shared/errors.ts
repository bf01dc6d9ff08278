/**
 * The one registry of coded errors.
 *
 * Every failure the gateway reports has a stable code `GW_ERR_<AREA>_<WHAT>` and
 * maps to one protocol error code (what clients see in `res.error.code`). Errors
 * cross threads as plain `{code, message, details}` records (see `toWire`), never
 * as class instances. `docs/errors.md` documents every code; a test checks the two
 * agree.
 */

/** Error codes of protocol 3 (`res.error.code`). */
export type ProtocolErrorCode = "INVALID_REQUEST" | "UNAVAILABLE" | "NOT_PAIRED" | "NOT_LINKED" | "AGENT_TIMEOUT";

/** `res.error` as it travels on the wire. */
export interface ErrorShape {
  code: ProtocolErrorCode;
  message: string;
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
}

interface CodeInfo {
  protocol: ProtocolErrorCode;
  retryable?: boolean;
}

/** code → protocol mapping. Keep sorted by area; document each in docs/errors.md. */
export const ERROR_REGISTRY = {
  // protocol / dispatch
  GW_ERR_PROTO_INVALID_FRAME: { protocol: "INVALID_REQUEST" },
  GW_ERR_PROTO_INVALID_PARAMS: { protocol: "INVALID_REQUEST" },
  GW_ERR_PROTO_UNKNOWN_METHOD: { protocol: "INVALID_REQUEST" },
  GW_ERR_PROTO_HANDLER_FAILED: { protocol: "UNAVAILABLE" },
  // authentication / authorisation
  GW_ERR_AUTH_CONFIG: { protocol: "INVALID_REQUEST" },
  // pairing
  GW_ERR_PAIRING_UNKNOWN_REQUEST: { protocol: "INVALID_REQUEST" },
  GW_ERR_PAIRING_UNKNOWN_DEVICE: { protocol: "INVALID_REQUEST" },
  // nodes (registry, node.invoke, node.event)
  GW_ERR_NODE_NOT_CONNECTED: { protocol: "UNAVAILABLE" },
  GW_ERR_NODE_UNKNOWN: { protocol: "INVALID_REQUEST" },
  GW_ERR_NODE_ID_MISMATCH: { protocol: "INVALID_REQUEST" },
  GW_ERR_NODE_COMMAND_NOT_ALLOWED: { protocol: "INVALID_REQUEST" },
  GW_ERR_NODE_INVOKE_SEND_FAILED: { protocol: "UNAVAILABLE" },
  GW_ERR_NODE_INVOKE_TIMEOUT: { protocol: "UNAVAILABLE" },
  GW_ERR_NODE_INVOKE_FAILED: { protocol: "UNAVAILABLE" },
  GW_ERR_NODE_DISCONNECTED: { protocol: "UNAVAILABLE" },
  GW_ERR_NODE_AGENT_UNAVAILABLE: { protocol: "UNAVAILABLE" },
  // cluster (gateway.cluster on NATS JetStream)
  GW_ERR_CLUSTER_UNAVAILABLE: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_CLUSTER_GATEWAY_UNREACHABLE: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_CLUSTER_CONFLICT: { protocol: "UNAVAILABLE", retryable: true },
  // state on disk
  GW_ERR_STORE_WRITE_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_STORE_CORRUPT: { protocol: "UNAVAILABLE" },
  // config
  GW_ERR_CONFIG_INVALID: { protocol: "INVALID_REQUEST" },
  GW_ERR_CONFIG_PARSE: { protocol: "INVALID_REQUEST" },
  GW_ERR_CONFIG_ENV_MISSING: { protocol: "INVALID_REQUEST" },
  GW_ERR_CONFIG_INCLUDE: { protocol: "INVALID_REQUEST" },
  // ring queues / workers
  GW_ERR_RING_RECORD_TOO_LARGE: { protocol: "INVALID_REQUEST" },
  GW_ERR_RING_CORRUPT: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_RING_CLOSED: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_RING_OVERFLOW: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_WORKER_UNAVAILABLE: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_WORKER_TIMEOUT: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_WORKER_CANCELLED: { protocol: "UNAVAILABLE", retryable: true },
  // agent runs (src/workers/agent/agent-errors.ts raises them in pool threads)
  GW_ERR_AGENT_NO_MODEL: { protocol: "UNAVAILABLE" },
  GW_ERR_AGENT_PROVIDER_CONFIG: { protocol: "UNAVAILABLE" },
  GW_ERR_AGENT_PROVIDER_AUTH: { protocol: "UNAVAILABLE" },
  GW_ERR_AGENT_PROVIDER_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_AGENT_TIMEOUT: { protocol: "AGENT_TIMEOUT" },
  GW_ERR_AGENT_ABORTED: { protocol: "UNAVAILABLE" },
  GW_ERR_AGENT_PERSIST_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_AGENT_TOOL_LOOP: { protocol: "UNAVAILABLE" },
  GW_ERR_AGENT_SESSION_BUSY: { protocol: "UNAVAILABLE", retryable: true },
  // whatsapp channel
  GW_ERR_WHATSAPP_NOT_LINKED: { protocol: "NOT_LINKED" },
  GW_ERR_WHATSAPP_INVALID_TARGET: { protocol: "INVALID_REQUEST" },
  GW_ERR_WHATSAPP_SEND_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  // channels (channel workers, send, channel pairing)
  GW_ERR_CHANNEL_UNSUPPORTED: { protocol: "INVALID_REQUEST" },
  GW_ERR_CHANNEL_NOT_RUNNING: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_CHANNEL_SEND_FAILED: { protocol: "UNAVAILABLE" },
  GW_ERR_CHANNEL_OUTCOME_UNKNOWN: { protocol: "UNAVAILABLE" },
  GW_ERR_CHANNEL_PAIRING_UNKNOWN_CODE: { protocol: "INVALID_REQUEST" },
  // server / lifecycle
  GW_ERR_SERVER_SHUTTING_DOWN: { protocol: "UNAVAILABLE", retryable: true },
  GW_ERR_SERVER_LISTEN: { protocol: "UNAVAILABLE" },
  GW_ERR_UWS_NATIVE_MISSING: { protocol: "UNAVAILABLE" },
  GW_ERR_MODULE_GRAPH: { protocol: "UNAVAILABLE" },
} as const satisfies Record<string, CodeInfo>;

export type GatewayErrorCode = keyof typeof ERROR_REGISTRY;

/** Plain record used to carry an error across threads or into `res.error`. */
export interface WireError {
  code: GatewayErrorCode;
  message: string;
  details?: unknown;
}

/**
 * A failure with a stable code. `message` is written for operators: what was wrong, what to do.
 *
 * When it wraps a lower-level failure, pass that as `{cause}` (standard `Error.cause`): the
 * stack and errno of the original stay available to logs and debuggers. `cause` never crosses
 * threads or reaches clients (`toWire` and `toErrorShape` leave it out), so it may carry
 * paths and internals that `message` does not.
 */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly details: unknown;

  constructor(code: GatewayErrorCode, message: string, details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = "GatewayError";
    this.code = code;
    this.details = details;
  }

  get protocolCode(): ProtocolErrorCode {
    return ERROR_REGISTRY[this.code].protocol;
  }

  get retryable(): boolean {
    const info: CodeInfo = ERROR_REGISTRY[this.code];
    return info.retryable === true;
  }

  /** The record that crosses threads. */
  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error from its wire record (unknown codes become UNAVAILABLE handler failures). */
  static fromWire(w: WireError): GatewayError {
    const code = w.code in ERROR_REGISTRY ? w.code : "GW_ERR_PROTO_HANDLER_FAILED";
    return new GatewayError(code, w.message, w.details);
  }
}

/** The protocol's error shape for any thrown value. Unknown throwables become `UNAVAILABLE "<Name>: <message>"` (≤240 chars). */
export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof GatewayError) {
    const shape: ErrorShape = { code: err.protocolCode, message: err.message };
    if (err.details !== undefined) shape.details = err.details;
    if (err.retryable) shape.retryable = true;
    return shape;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const text = `${e.name}: ${e.message}`;
  return { code: "UNAVAILABLE", message: text.length > 240 ? text.slice(0, 240) : text };
}
