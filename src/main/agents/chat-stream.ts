/**
 * `chat` events derived from a session-linked run's agent stream (§3.9): `delta` at most
 * once per 150 ms per run with the full text so far (texts in between are only buffered;
 * the final carries everything), `final` on lifecycle end, `error` on lifecycle error,
 * `aborted` when the run is aborted (then its stream emits no final). `seq` is the agent
 * event's seq (abort: last + 1).
 */

/** Minimum spacing of `delta` events of one run. */
export const CHAT_DELTA_INTERVAL_MS = 150;

/** `chat` event payload. */
export interface ChatEventPayload {
  runId: string;
  sessionKey: string;
  seq: number;
  state: "delta" | "final" | "aborted" | "error";
  message?: { role: "assistant"; content: { type: "text"; text: string }[]; timestamp: number };
  errorMessage?: string;
  stopReason?: string;
}

/** Per-run chat state. */
export class ChatStream {
  #text = "";
  #lastDeltaAt = -Infinity;

  constructor(
    readonly runId: string,
    readonly sessionKey: string,
    private readonly emit: (p: ChatEventPayload) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Text streamed so far. */
  get text(): string {
    return this.#text;
  }

  /** An `assistant` event (`data.text` = the run's text so far). */
  assistant(seq: number, text: string): void {
    this.#text = text;
    const t = this.now();
    if (t - this.#lastDeltaAt < CHAT_DELTA_INTERVAL_MS) return;
    this.#lastDeltaAt = t;
    this.emit({ runId: this.runId, sessionKey: this.sessionKey, seq, state: "delta", message: this.#message(text, t) });
  }

  /** Lifecycle end (not aborted by the gateway). */
  final(seq: number): void {
    const text = this.#text.trim();
    const p: ChatEventPayload = { runId: this.runId, sessionKey: this.sessionKey, seq, state: "final" };
    if (text !== "") p.message = this.#message(text, this.now());
    this.emit(p);
  }

  /** Lifecycle error. */
  error(seq: number, errorMessage: string): void {
    this.emit({ runId: this.runId, sessionKey: this.sessionKey, seq, state: "error", errorMessage });
  }

  /** Aborted by `chat.abort`, `/stop`, or the deadline. */
  aborted(seq: number, stopReason: string): void {
    const p: ChatEventPayload = { runId: this.runId, sessionKey: this.sessionKey, seq, state: "aborted", stopReason };
    if (this.#text.trim() !== "") p.message = this.#message(this.#text.trim(), this.now());
    this.emit(p);
  }

  #message(text: string, timestamp: number): NonNullable<ChatEventPayload["message"]> {
    return { role: "assistant", content: [{ type: "text", text }], timestamp };
  }
}
