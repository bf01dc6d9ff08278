/**
 * Recent gateway log lines (`logs.tail`) with "follow": while checked, the panel polls with the
 * returned cursor every 2 s and appends; it keeps the last 1,000 lines.
 */
import { LitElement, css, html, nothing } from "lit";
import type { GatewayClient } from "../gateway-client.js";
import { baseStyles } from "../styles.js";

const MAX_LINES = 1000;
const FOLLOW_MS = 2000;

interface TailResult {
  file?: string;
  cursor: number;
  lines: string[];
  reset?: boolean;
  truncated?: boolean;
}

export class LogsPanel extends LitElement {
  static override properties = { client: { attribute: false }, lines: { state: true }, follow: { state: true }, error: { state: true }, file: { state: true } };
  static override styles = [baseStyles, css`pre { max-height: 260px; overflow: auto; background: #0f1420; color: #d6deeb; padding: 0.6rem; border-radius: 8px; margin: 0.5rem 0 0; white-space: pre-wrap; word-break: break-all; }`];

  client: GatewayClient | null = null;
  lines: string[] = [];
  follow = false;
  error = "";
  file = "";
  #cursor: number | undefined;
  #timer: ReturnType<typeof setInterval> | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop();
  }

  async load(): Promise<void> {
    const c = this.client;
    if (!c || !c.has("logs.tail")) return;
    try {
      const r = await c.request<TailResult>("logs.tail", this.#cursor === undefined ? { limit: 200 } : { cursor: this.#cursor, limit: 500 });
      const next = r.reset || this.#cursor === undefined ? r.lines : [...this.lines, ...r.lines];
      this.lines = next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
      this.#cursor = r.cursor;
      this.file = r.file ?? "";
      this.error = "";
      await this.updateComplete;
      const pre = this.renderRoot.querySelector("pre");
      if (pre) pre.scrollTop = pre.scrollHeight;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #toggle(e: Event): void {
    this.follow = (e.target as HTMLInputElement).checked;
    this.#stop();
    if (this.follow) this.#timer = setInterval(() => void this.load(), FOLLOW_MS);
  }

  override render() {
    return html`<section class="card" data-testid="logs">
      <h2>Logs <span class="muted">${this.file}</span></h2>
      <div class="row">
        <button @click=${() => this.load()}>Refresh</button>
        <label><input type="checkbox" data-testid="follow" .checked=${this.follow} @change=${(e: Event) => this.#toggle(e)}> follow</label>
      </div>
      ${this.error ? html`<div class="error">${this.error}</div>` : nothing}
      <pre data-testid="log-lines">${this.lines.length ? this.lines.join("\n") : "(no lines)"}</pre>
    </section>`;
  }
}
customElements.define("cb-logs-panel", LogsPanel);
