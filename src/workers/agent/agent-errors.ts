/**
 * Coded errors of agent runs. They follow `src/shared/errors.ts` (stable `GW_ERR_AGENT_*`
 * code, protocol code, plain `{code, message, details}` on the wire) and are meant to join
 * its registry (and docs/errors.md) when the runtime is wired into the gateway.
 */
import type { ProtocolErrorCode } from "../../shared/errors.js";

/** code → protocol mapping of agent run failures. */
export const AGENT_ERROR_REGISTRY = {
  /** No `agents.defaults.model` (or the ref is malformed). */
  GW_ERR_AGENT_NO_MODEL: { protocol: "UNAVAILABLE" },
  /** The model ref names a provider without a `models.providers.<id>` entry, or an unsupported `api`. */
  GW_ERR_AGENT_PROVIDER_CONFIG: { protocol: "UNAVAILABLE" },
  /** The provider rejected the credentials (401/403). */
  GW_ERR_AGENT_PROVIDER_AUTH: { protocol: "UNAVAILABLE" },
  /** Rate limit, server error, connection failure after retries and fallbacks. */
  GW_ERR_AGENT_PROVIDER_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  /** The run passed its deadline (`timeout` / `agents.defaults.timeoutSeconds`). */
  GW_ERR_AGENT_TIMEOUT: { protocol: "AGENT_TIMEOUT" },
  /** The run was aborted (chat.abort, /stop, client gone). */
  GW_ERR_AGENT_ABORTED: { protocol: "UNAVAILABLE" },
  /** The turn's transcript could not be written (the reply is not acknowledged). */
  GW_ERR_AGENT_PERSIST_FAILED: { protocol: "UNAVAILABLE", retryable: true },
  /** The model kept calling tools past the per-run limit. */
  GW_ERR_AGENT_TOOL_LOOP: { protocol: "UNAVAILABLE" },
} as const satisfies Record<string, { protocol: ProtocolErrorCode; retryable?: boolean }>;

export type AgentErrorCode = keyof typeof AGENT_ERROR_REGISTRY;

/** Plain record of an agent error (crosses threads). */
export interface AgentWireError {
  code: AgentErrorCode;
  message: string;
  details?: unknown;
}

/** A failed agent run. `message` says what went wrong and which config key fixes it. */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly details: unknown;

  constructor(code: AgentErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "AgentError";
    this.code = code;
    this.details = details;
  }

  /** Protocol error code clients see. */
  get protocolCode(): ProtocolErrorCode {
    return AGENT_ERROR_REGISTRY[this.code].protocol;
  }

  /** The record that crosses threads. */
  toWire(): AgentWireError {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}
