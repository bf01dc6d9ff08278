/**
 * Sessions and a chat pane (§3.9): `chat.history` on open, `chat.send` per message, and the
 * streamed `chat` events (`delta` carries the full text so far, `final` the finished
 * message, `error` / `aborted` end the run). Only events of the selected session are shown.
 */
import { LitElement, css, html, nothing } from "lit";
import type { GatewayClient } from "../gateway-client.js";
import { baseStyles } from "../styles.js";

interface ChatMessage {
  role: string;
  content?: unknown;
  text?: string;
}

interface ChatEvent {
  runId?: string;
  sessionKey?: string;
  state?: "delta" | "final" | "aborted" | "error";
  message?: ChatMessage;
  errorMessage?: string;
}

/** Text of a transcript message: a string, or the text parts of a content array. */
export function messageText(m: ChatMessage | undefined): string {
  if (!m) return "";
  if (typeof m.content === "string") return m.content;
  if (Array.isArray(m.content)) {
    return m.content
      .map((p: unknown) => (p && typeof p === "object" && (p as { type?: unknown }).type === "text" ? String((p as { text?: unknown }).text ?? "") : ""))
      .join("");
  }
  return typeof m.text === "string" ? m.text : "";
}

export class ChatPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    sessions: { attribute: false },
    sessionKey: { state: true },
    messages: { state: true },
    streaming: { state: true },
    error: { state: true },
    draft: { state: true },
  };
  static override styles = [
    baseStyles,
    css`
      .log { max-height: 320px; overflow: auto; display: flex; flex-direction: column; gap: 0.4rem; margin: 0.5rem 0; }
      .msg { padding: 0.45rem 0.7rem; border-radius: 10px; max-width: 85%; white-space: pre-wrap; word-break: break-word; }
      .user { align-self: flex-end; background: #2f6fed; color: #fff; }
      .assistant { align-self: flex-start; background: #eef1f7; }
      .streaming { opacity: 0.8; border: 1px dashed #9aa6c0; }
      form { display: flex; gap: 0.5rem; }
      form input { flex: 1; }
      select { font: inherit; }
    `,
  ];

  client: GatewayClient | null = null;
  /** Session keys to offer (the main session first). */
  sessions: string[] = [];
  sessionKey = "";
  messages: ChatMessage[] = [];
  /** runId → text so far, for runs still streaming. */
  streaming: Map<string, string> = new Map();
  error = "";
  draft = "";
  #off: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.sessionKey === "" && this.sessions[0]) this.sessionKey = this.sessions[0];
    this.#off = this.client?.onEvent((event, payload) => {
      if (event === "chat") this.#onChat(payload as ChatEvent);
    }) ?? null;
    void this.loadHistory();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#off?.();
  }

  async loadHistory(): Promise<void> {
    const c = this.client;
    if (!c || this.sessionKey === "") return;
    if (!c.has("chat.history")) {
      this.error = "this gateway does not offer chat.history";
      return;
    }
    try {
      const r = await c.request<{ messages?: ChatMessage[] }>("chat.history", { sessionKey: this.sessionKey, limit: 200 });
      this.messages = Array.isArray(r.messages) ? r.messages : [];
      this.error = "";
      this.#scroll();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  #onChat(e: ChatEvent): void {
    if (!e || e.sessionKey !== this.sessionKey || typeof e.runId !== "string") return;
    const streaming = new Map(this.streaming);
    if (e.state === "delta") {
      streaming.set(e.runId, messageText(e.message));
    } else {
      streaming.delete(e.runId);
      if (e.state === "final" && e.message) this.messages = [...this.messages, e.message];
      if (e.state === "error") this.error = e.errorMessage ?? "the run failed";
    }
    this.streaming = streaming;
    this.#scroll();
  }

  async #send(ev: Event): Promise<void> {
    ev.preventDefault();
    const text = this.draft.trim();
    const c = this.client;
    if (!c || text === "") return;
    this.draft = "";
    this.messages = [...this.messages, { role: "user", content: [{ type: "text", text }] }];
    this.#scroll();
    try {
      await c.request("chat.send", { sessionKey: this.sessionKey, message: text, idempotencyKey: crypto.randomUUID() });
      this.error = "";
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  #select(e: Event): void {
    this.sessionKey = (e.target as HTMLSelectElement).value;
    this.messages = [];
    this.streaming = new Map();
    void this.loadHistory();
  }

  #scroll(): void {
    void this.updateComplete.then(() => {
      const log = this.renderRoot.querySelector(".log");
      if (log) log.scrollTop = log.scrollHeight;
    });
  }

  override render() {
    return html`<section class="card" data-testid="chat">
      <h2>Sessions &amp; chat</h2>
      <div class="row">
        <label>Session
          <select data-testid="session-select" @change=${(e: Event) => this.#select(e)}>
            ${this.sessions.map((k) => html`<option .value=${k} ?selected=${k === this.sessionKey}>${k}</option>`)}
          </select></label>
      </div>
      <div class="log" data-testid="chat-log">
        ${this.messages.map((m) => html`<div class="msg ${m.role === "user" ? "user" : "assistant"}" data-testid="chat-message" data-role=${m.role}>${messageText(m)}</div>`)}
        ${[...this.streaming.values()].map((t) => html`<div class="msg assistant streaming" data-testid="chat-streaming">${t || "…"}</div>`)}
      </div>
      ${this.error ? html`<div class="error" data-testid="chat-error">${this.error}</div>` : nothing}
      <form @submit=${(e: Event) => this.#send(e)}>
        <input data-testid="chat-input" placeholder="Message the agent" .value=${this.draft} @input=${(e: Event) => (this.draft = (e.target as HTMLInputElement).value)}>
        <button class="primary" data-testid="chat-send" type="submit">Send</button>
      </form>
    </section>`;
  }
}
customElements.define("cb-chat-panel", ChatPanel);
