/**
 * The hooks module's `runAgent` on top of the agents runtime (§7.2 step 6): an isolated
 * turn in the hook's own session (`hook:<uuid>` unless the request names one), then one
 * line in the main session's system events — `Hook <name>: <reply>` when the run ended ok,
 * `Hook <name> (<status>): <error>` otherwise — a heartbeat request for `wakeMode: "now"`,
 * and, unless `deliver` is false, the reply sent to the request's channel (`last` = the main
 * session's `lastChannel/lastTo`) when that channel runs in this gateway.
 *
 * The request's `model` runs first, before the agent's configured chain, and its `thinking`
 * sets the run's level (an unknown level is ignored). Not carried over from the reference:
 * the separate `cron` lane (hook sessions are their own lane under `maxConcurrent`).
 */
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import { MAIN_SESSION_KEY } from "../../shared/store/sessions/sessions-info.js";
import type { AgentRuntime, RunOutcome } from "../agents/agent-runtime.js";
import type { SystemEventQueue } from "../presence/system-event-queue.js";
import type { HookAgentRequest } from "./hook-requests.js";
import { thinkingOption } from "../../shared/run-directives.js";

/** Longest reply quoted in the main session's summary line. */
const SUMMARY_MAX_CHARS = 500;

/** Sends a text to a chat of a running channel account (the channels module's `deliver`). */
export type DeliverText = (target: { channel: string; to: string; accountId?: string }, text: string, key: string) => Promise<unknown>;

/** What the hook runner uses. */
export interface HookAgentRunDeps {
  /** The agents runtime, read per request. */
  agents: () => AgentRuntime | undefined;
  systemEvents: SystemEventQueue;
  log: Logger;
  /** Heartbeat request for `wakeMode: "now"`. Default: none. */
  requestHeartbeat?: (reason: string) => void;
  /** Channel delivery, when channels run. Default: no delivery. */
  deliver?: () => DeliverText | undefined;
}

/** The summary line a finished hook run leaves in the main session. */
export function hookSummary(name: string, out: RunOutcome): string {
  const clip = (s: string): string => (s.length > SUMMARY_MAX_CHARS ? `${s.slice(0, SUMMARY_MAX_CHARS - 1)}…` : s);
  if (out.status === "ok") return `Hook ${name}: ${clip(out.text.trim() || "(no reply)")}`;
  return `Hook ${name} (${out.status}): ${clip(out.error?.message ?? out.text.trim())}`;
}

/** Builds `HooksModuleOptions.runAgent`. Resolves once the run ended and its summary was posted. */
export function hookAgentRunner(d: HookAgentRunDeps): (req: HookAgentRequest) => Promise<RunOutcome> {
  return async (req) => {
    const runtime = d.agents();
    if (runtime === undefined) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "agent runs are not available");
    const started = await runtime.start({ runId: req.runId, message: req.message, sessionKey: req.sessionKey, ...(req.timeoutSeconds !== undefined ? { timeoutSeconds: req.timeoutSeconds } : {}), ...(req.model !== undefined ? { model: req.model } : {}), ...thinkingOption(req.thinking) });
    const out = await started.done;
    d.systemEvents.enqueue(MAIN_SESSION_KEY, hookSummary(req.name, out));
    if (req.wakeMode === "now") d.requestHeartbeat?.(`hook:${req.name}`);
    if (req.deliver && out.status === "ok" && out.text.trim() !== "") await deliverReply(d, runtime, req, out.text);
    return out;
  };
}

async function deliverReply(d: HookAgentRunDeps, runtime: AgentRuntime, req: HookAgentRequest, text: string): Promise<void> {
  const send = d.deliver?.();
  if (send === undefined) return;
  const { key, agentId } = runtime.resolveKey(MAIN_SESSION_KEY);
  const main = (await runtime.store(agentId)).get(key);
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const channel = req.channel === "last" ? str(main?.lastChannel) : req.channel;
  const sameChannel = channel !== undefined && channel === str(main?.lastChannel);
  const to = req.to ?? (sameChannel ? str(main?.lastTo) : undefined);
  if (channel === undefined || to === undefined) {
    d.log.info({ runId: req.runId, channel: req.channel }, "hook run: no delivery target (no last channel/recipient)");
    return;
  }
  const accountId = sameChannel ? str(main?.lastAccountId) : undefined;
  await send({ channel, to, ...(accountId !== undefined ? { accountId } : {}) }, text, `hook:${req.runId}`).catch((err: unknown) =>
    d.log.warn({ runId: req.runId, channel, err: String(err) }, "hook run: reply not delivered"),
  );
}
