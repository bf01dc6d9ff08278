/**
 * Plain result shapes shared by the run methods, the wait registry and the shared
 * idempotency slot (types only, so none of them imports another for its types).
 */
import type { ErrorShape, GatewayError } from "../../shared/errors.js";

/** A cached answer of an `agent`/`chat.send` idempotency key. */
export interface DedupeEntry {
  ok: boolean;
  payload: unknown;
  error?: ErrorShape;
}

/** What `agent.wait` answers for a run. */
export interface WaitResult {
  runId: string;
  status: "ok" | "error" | "timeout";
  startedAt?: number;
  endedAt?: number;
  error?: string;
}

/** How a run ended. */
export interface RunOutcome {
  runId: string;
  sessionKey: string;
  sessionId: string;
  status: "ok" | "error" | "aborted";
  text: string;
  startedAt: number;
  endedAt: number;
  provider?: string;
  model?: string;
  usage?: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
  stopReason?: string;
  error?: GatewayError;
}
