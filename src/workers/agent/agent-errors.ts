/**
 * Coded errors of agent runs: the `GW_ERR_AGENT_*` part of the one registry in
 * `src/shared/errors.ts` (documented in docs/errors.md), as a class that pool threads throw
 * and send across as plain `{code, message, details}` records.
 */
import { ERROR_REGISTRY, type ProtocolErrorCode } from "../../shared/errors.js";

/** The agent-run codes of the registry. */
export type AgentErrorCode = Extract<keyof typeof ERROR_REGISTRY, `GW_ERR_AGENT_${string}`>;

/** code → protocol mapping of agent run failures (a view of `ERROR_REGISTRY`). */
export const AGENT_ERROR_REGISTRY: { readonly [K in AgentErrorCode]: (typeof ERROR_REGISTRY)[K] } = ERROR_REGISTRY;

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
