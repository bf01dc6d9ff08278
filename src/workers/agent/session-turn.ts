/**
 * A turn bound to its session transcript, as the pool worker runs it: resolve models and
 * workspace, open `agents/<agentId>/sessions/<sessionId>.jsonl` (torn tail repaired; the
 * existing messages are the model context), run the turn, and append the turn's messages in
 * ONE durable commit before the final lifecycle event — so a client reacting to `end` (chat
 * final) reads the turn back with chat.history. The session entry (sessions.json) is left to its single owner: the result
 * carries the `TurnRecord` to apply there.
 */
import { join } from "node:path";
import { TranscriptWriter } from "../../shared/store/sessions/transcript.js";
import { isValidAgentId, isValidSessionId } from "../../shared/store/sessions/session-key.js";
import type { TurnRecord } from "../../shared/store/sessions/session-store.js";
import type { ImageContent, TextContent } from "../../shared/store/sessions/transcript-types.js";
import type { ThinkingLevel } from "../../shared/run-directives.js";
import { AgentError } from "./agent-errors.js";
import { RunEmitter } from "./agent-events.js";
import type { AgentEvent } from "./agent-events.js";
import { resolveTimeoutMs, resolveWorkspace } from "./agent-config.js";
import type { AgentRuntimeConfig } from "./agent-config.js";
import { runAgentTurn } from "./agent-loop.js";
import type { AgentTurnResult } from "./agent-loop.js";
import { resolveModelChain } from "./providers/model-chain.js";
import { loadWorkspaceContext } from "./workspace-context.js";
import { buildTools } from "./tools/tool-registry.js";
import { workspaceRoot } from "./tools/workspace-path.js";

/** Input of `runSessionTurn`. */
export interface SessionTurnInput {
  stateDir: string;
  config: AgentRuntimeConfig;
  agentId: string;
  sessionId: string;
  sessionKey?: string;
  runId: string;
  message: string | (TextContent | ImageContent)[];
  /** `provider/model` run before the configured chain (session override, hook `model`). */
  modelOverride?: string;
  /** Resolved thinking level (run → session → `thinkingDefault`); default off. */
  thinking?: ThinkingLevel;
  /** Seconds; default `agents.defaults.timeoutSeconds` (600). */
  timeoutSeconds?: number;
  extraSystemPrompt?: string;
  signal?: AbortSignal;
  onEvent: (ev: AgentEvent) => void;
  /** Home directory for `~` in the workspace path (tests). */
  home?: string;
  maxRetries?: number;
}

/** Outcome: the turn (without its message list) and what to record on the session entry. */
export interface SessionTurnResult {
  turn: Omit<AgentTurnResult, "newMessages">;
  transcriptPath: string;
  /** Present when a model answered. */
  record?: TurnRecord;
}

/** Runs one turn and persists it. Config errors end the run at once (lifecycle start → error). */
export async function runSessionTurn(input: SessionTurnInput): Promise<SessionTurnResult> {
  if (!isValidAgentId(input.agentId) || !isValidSessionId(input.sessionId)) {
    throw new AgentError("GW_ERR_AGENT_PROVIDER_CONFIG", `invalid agent id or session id (${input.agentId}/${input.sessionId})`);
  }
  const transcriptPath = join(input.stateDir, "agents", input.agentId, "sessions", `${input.sessionId}.jsonl`);
  let models;
  try {
    models = resolveModelChain(input.config, input.agentId, input.modelOverride);
  } catch (err) {
    const e = err instanceof AgentError ? err : new AgentError("GW_ERR_AGENT_NO_MODEL", String(err));
    const emitter = new RunEmitter(input.runId, input.onEvent, input.sessionKey);
    const at = Date.now();
    emitter.emit("lifecycle", { phase: "start", startedAt: at });
    emitter.emit("lifecycle", { phase: "error", startedAt: at, endedAt: at, error: e.message });
    return { turn: { status: "error", text: "", startedAt: at, endedAt: at, usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } }, error: e.toWire() }, transcriptPath };
  }
  const root = await workspaceRoot(resolveWorkspace(input.config, input.agentId, input.home));
  const writer = await TranscriptWriter.open(transcriptPath, { sessionId: input.sessionId, cwd: root });
  try {
    const { newMessages: _persisted, ...turn } = await runAgentTurn({
      runId: input.runId,
      sessionKey: input.sessionKey,
      message: input.message,
      history: writer.history,
      models,
      tools: buildTools(input.config),
      workspace: root,
      workspaceContext: await loadWorkspaceContext(root),
      extraSystemPrompt: input.extraSystemPrompt,
      timeoutMs: resolveTimeoutMs(input.config, input.timeoutSeconds),
      signal: input.signal,
      onEvent: input.onEvent,
      persist: async (messages) => void (await writer.appendMessages(messages)),
      maxRetries: input.maxRetries,
      ...(input.thinking !== undefined ? { thinking: input.thinking } : {}),
    });
    void _persisted;
    const out: SessionTurnResult = { turn, transcriptPath };
    if (turn.provider !== undefined && turn.model !== undefined) {
      const model = models.find((m) => m.providerId === turn.provider && m.modelId === turn.model);
      out.record = {
        provider: turn.provider,
        model: turn.model,
        usage: { input: turn.lastInputTokens ?? turn.usage.input, output: turn.usage.output, totalTokens: turn.lastInputTokens ?? turn.usage.totalTokens },
        aborted: turn.status === "aborted",
      };
      if (model?.contextWindow !== undefined) out.record.contextTokens = model.contextWindow;
    }
    return out;
  } finally {
    await writer.close();
  }
}
