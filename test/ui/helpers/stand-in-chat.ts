/**
 * TEST-ONLY STAND-IN for `chat.send` / `chat.history` (§3.9), so the Control UI's chat pane can
 * be driven before the agent runtime's chat methods land. It is NOT the chat implementation:
 * it keeps a transcript in memory and "answers" every message with a scripted reply streamed
 * as `chat` events the way §3.9 describes: `chat.send` answers `{runId: idempotencyKey,
 * status:"started"}` once, then `delta` events carry the full text so far, then `final`
 * carries the message. The final is held until the test calls `release()`, so the test can
 * see the streaming state first.
 */
import type { MethodTable } from "../../../src/main/router.js";

interface Message {
  role: "user" | "assistant";
  content: { type: "text"; text: string }[];
  timestamp: number;
}

export interface StandInChat {
  register(table: MethodTable): void;
  /** Lets the current run send its `final`. */
  release(): void;
  /** Resolves when the current run has sent all its deltas. */
  streamed(): Promise<void>;
  readonly transcript: readonly Message[];
}

const text = (role: Message["role"], t: string): Message => ({ role, content: [{ type: "text", text: t }], timestamp: Date.now() });

export function standInChat(reply: (message: string) => string): StandInChat {
  const transcript: Message[] = [text("user", "earlier question"), text("assistant", "earlier answer from history")];
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  let streamedResolve: () => void = () => {};
  let streamed = new Promise<void>((r) => (streamedResolve = r));
  return {
    transcript,
    release: () => release(),
    streamed: () => streamed,
    register(table) {
      table.add("chat.history", undefined, ({ params }) => ({
        sessionKey: params.sessionKey,
        sessionId: "stand-in",
        messages: transcript,
        thinkingLevel: "off",
      }));
      table.add("chat.send", undefined, ({ ctx, params }) => {
        const sessionKey = String(params.sessionKey);
        const runId = String(params.idempotencyKey);
        const message = String(params.message);
        transcript.push(text("user", message));
        const full = reply(message);
        void (async () => {
          let seq = 0;
          for (const cut of [Math.ceil(full.length / 3), Math.ceil((2 * full.length) / 3)]) {
            ctx.bus.broadcast("chat", { runId, sessionKey, seq: seq++, state: "delta", message: { role: "assistant", content: [{ type: "text", text: full.slice(0, cut) }], timestamp: Date.now() } });
          }
          streamedResolve();
          await gate;
          const final = text("assistant", full);
          transcript.push(final);
          ctx.bus.broadcast("chat", { runId, sessionKey, seq: seq++, state: "final", message: final });
          gate = new Promise<void>((r) => (release = r));
          streamed = new Promise<void>((r) => (streamedResolve = r));
        })();
        return { runId, status: "started" };
      });
    },
  };
}
