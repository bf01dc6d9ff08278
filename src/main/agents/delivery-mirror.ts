/**
 * The transcript mirror of a delivered `send` (§3.4 step 5, §10.4 "delivered text is mirrored
 * into the session transcript"): the text that reached the channel is appended to the
 * session's transcript as the reference writes it — an assistant message from provider
 * `clawdbot`, model `delivery-mirror`, zero usage, stopReason `stop` — so the next turn in
 * that session sees what the user was sent. The session entry is created when missing
 * (persisted before the transcript line). The append waits on the session's lane: a run's
 * thread is the transcript's only other writer, and a line written between a run's lines
 * would break its parent chain.
 */
import { TranscriptWriter } from "../../shared/store/sessions/transcript.js";
import { emptyUsage, type AssistantMessage } from "../../shared/store/sessions/transcript-types.js";
import { readAgentRuntimeConfig, resolveWorkspace } from "../../workers/agent/agent-config.js";
import type { AgentRuntime } from "./agent-runtime.js";

/** The mirrored message of `text`. */
export function deliveryMirrorMessage(text: string, now: number = Date.now()): AssistantMessage {
  return { role: "assistant", content: [{ type: "text", text }], api: "openai-responses", provider: "clawdbot", model: "delivery-mirror", usage: emptyUsage(), stopReason: "stop", timestamp: now };
}

/** Appends `text` to the transcript of `sessionKey` (canonicalised; `INVALID_REQUEST` when it cannot be a key). */
export async function mirrorDelivery(runtime: AgentRuntime, sessionKey: string, text: string): Promise<void> {
  const { key, agentId } = runtime.resolveKey(sessionKey);
  const store = await runtime.store(agentId);
  await runtime.lanes.exclusive(key, async () => {
    const { entry } = store.resolveForRun(key);
    await store.flush();
    const cwd = resolveWorkspace(readAgentRuntimeConfig(runtime.options.agentConfig ?? {}), agentId);
    const writer = await TranscriptWriter.openForAppend(store.transcriptPath(entry), { sessionId: entry.sessionId, cwd });
    try {
      await writer.appendMessages([deliveryMirrorMessage(text)]);
    } finally {
      await writer.close();
    }
  });
}
