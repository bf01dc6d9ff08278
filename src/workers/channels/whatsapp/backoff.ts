/**
 * Reconnect delays of the WhatsApp socket (reference: initial 2 s, ×1.8, jitter 0.25,
 * max 30 s, 12 attempts). Pure; the random source is passed in.
 */
import type { WhatsAppReconnectPolicy } from "./whatsapp-link-protocol.js";

/** The policy with defaults filled in. */
export type ResolvedReconnectPolicy = Required<WhatsAppReconnectPolicy>;

export const DEFAULT_RECONNECT: ResolvedReconnectPolicy = { initialMs: 2000, factor: 1.8, jitter: 0.25, maxMs: 30_000, maxAttempts: 12 };

/** Fills in defaults. */
export function resolveReconnect(p: WhatsAppReconnectPolicy | undefined): ResolvedReconnectPolicy {
  return { ...DEFAULT_RECONNECT, ...Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined)) };
}

/**
 * Delay before reconnect attempt `attempt` (1-based): initial × factor^(attempt-1),
 * capped at maxMs, then spread by ±jitter (and capped again).
 */
export function reconnectDelay(policy: ResolvedReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}
