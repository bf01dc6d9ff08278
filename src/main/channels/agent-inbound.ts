/**
 * The channels module's seams to the agents runtime in a real gateway.
 *
 * `InboundHandler`: each accepted message is one
 * agent turn on the chat's session (§10.2/§10.3 session keys), and the turn's final text is
 * the reply the module sends back (chunked per channel by the account runner).
 *
 * The run id is derived from the account and the platform message id, so a message the
 * account replays after a crash (handled, reply not yet recorded) cannot run twice at the
 * same time: the runtime refuses a second run with an in-flight id.
 */
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import type { AgentRuntime } from "../agents/agent-runtime.js";
import { mirrorDelivery } from "../agents/delivery-mirror.js";
import type { InboundHandler, SendMirror } from "./channel-types.js";

/** `agents` is read per message (the agents module registers before the channels module starts). */
export function agentInboundHandler(agents: () => AgentRuntime | undefined, log: Logger): InboundHandler {
  return async (m) => {
    const runtime = agents();
    if (runtime === undefined) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "agent runs are not available");
    const started = await runtime.start({
      runId: `${m.channel}-${m.accountId}-${m.messageId}`,
      message: m.text,
      sessionKey: m.sessionKey,
      delivery: { channel: m.replyTo.channel, to: m.replyTo.to, accountId: m.replyTo.accountId },
    });
    const out = await started.done;
    if (out.status !== "ok") {
      log.warn({ channel: m.channel, account: m.accountId, runId: out.runId, status: out.status, err: out.error?.message }, "channel message: agent run did not complete; no reply");
      return null;
    }
    return out.text.trim() === "" ? null : { replyText: out.text };
  };
}

/** `SendMirror`: a delivered `send`'s text into its session transcript (delivery-mirror.ts). */
export function agentSendMirror(agents: () => AgentRuntime | undefined): SendMirror {
  return async (sessionKey, text) => {
    const runtime = agents();
    if (runtime === undefined) throw new GatewayError("GW_ERR_SERVER_SHUTTING_DOWN", "agent runs are not available");
    await mirrorDelivery(runtime, sessionKey, text);
  };
}
