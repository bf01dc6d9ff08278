/**
 * The `channels.status` / `health` snapshot of an account before its runner fills in live
 * fields: every counter zero, every timestamp null.
 */
import type { ChannelAccount } from "./channel-config.js";
import type { AccountSnapshot } from "./channel-types.js";

/**
 * Snapshot of an account that does not run (yet). `lastError` says why (null for a runner
 * about to start); `mode` is the Telegram transport a runner will use (null otherwise).
 */
export function idleSnapshot(a: ChannelAccount, lastError: string | null, mode: AccountSnapshot["mode"] = null): AccountSnapshot {
  return {
    accountId: a.accountId, enabled: a.enabled, configured: a.configured, ...(a.channel === "whatsapp" ? { linked: a.configured } : {}),
    running: false, connected: false, mode, tokenSource: a.tokenSource,
    reconnectAttempts: 0, lastConnectedAt: null, lastDisconnect: null, lastMessageAt: null, lastInboundAt: null, lastOutboundAt: null,
    lastStartAt: null, lastStopAt: null, lastError, lastProbeAt: null, dmPolicy: a.access.dmPolicy, allowFrom: a.access.allowFrom, queueDepth: 0, worker: null,
  };
}
