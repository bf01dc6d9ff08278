/**
 * `<clawdbot-control-app>`: the Control UI page (§7.6). Connection bar (target, token,
 * state, server info) and, once connected, presence, nodes, pairing requests, health,
 * sessions with chat, and logs.
 *
 * Credentials: the token is typed in or taken from a `#token=` fragment, which is then removed
 * from the address bar and the history entry (`history.replaceState`). It lives in memory
 * only, never in a query string, storage or a log line. It is sent to the page's own gateway
 * on Connect (automatically only when it came from the fragment), and to a `?gatewayUrl=`
 * target only after the user confirms that target (see target.ts).
 */
import { LitElement, css, html, nothing } from "lit";
import { deviceIdentitySupported, loadOrCreateDevice, type BrowserDevice } from "./device-identity.js";
import { GatewayClient, type PresenceEntry } from "./gateway-client.js";
import { healthView, nodesView, presenceView, type NodeInfo } from "./panels/views.js";
import { baseStyles } from "./styles.js";
import { resolveTarget, takeFragmentToken, type GatewayTarget } from "./target.js";
import "./panels/chat-panel.js";
import "./panels/logs-panel.js";
import "./panels/pairing-panel.js";

/** Poll period of node.list and system-presence while connected. */
const NODES_POLL_MS = 3000;

export class ControlApp extends LitElement {
  static override properties = {
    token: { state: true },
    state: { state: true },
    error: { state: true },
    presence: { state: true },
    nodes: { state: true },
    health: { state: true },
    healthError: { state: true },
    device: { state: true },
  };
  static override styles = [
    baseStyles,
    css`
      :host { max-width: 1280px; margin: 0 auto; padding: 1rem; }
      header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin-bottom: 1rem; }
      header h1 { font-size: 1.15rem; margin: 0; }
      .connect { margin-bottom: 1rem; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 1rem; align-items: start; }
      .wide { grid-column: 1 / -1; }
      .notice { background: #fff7e0; border: 1px solid #f0d48a; border-radius: 8px; padding: 0.6rem 0.8rem; margin-bottom: 0.6rem; }
      .refused { background: #fde2e2; border-color: #f3a6a6; }
      dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.8rem; margin: 0; }
      dt { color: #7b8496; }
      dd { margin: 0; overflow-wrap: anywhere; }
    `,
  ];

  readonly client = new GatewayClient();
  readonly target: GatewayTarget = resolveTarget(location);
  token = "";
  state = this.client.state;
  error = "";
  presence: PresenceEntry[] = [];
  nodes: NodeInfo[] = [];
  health: unknown = null;
  healthError = "";
  device: BrowserDevice | undefined = undefined;
  #nodesTimer: ReturnType<typeof setInterval> | null = null;
  #nodesPending = false;

  constructor() {
    super();
    const { token, rest } = takeFragmentToken(location.hash);
    if (token !== null) {
      this.token = token;
      history.replaceState(history.state, "", `${location.pathname}${location.search}${rest}`);
    }
    this.client.addEventListener("state", () => {
      this.state = this.client.state;
      this.error = this.client.lastError;
      if (this.state === "disconnected") this.#stopPolling();
    });
    this.client.onEvent((event, payload) => this.#onEvent(event, payload));
    // Own gateway + token from the link: connect at once. An explicit target always waits.
    if (token !== null && !this.target.explicit) void this.connect();
  }

  async connect(): Promise<void> {
    if (this.target.refused || this.target.url === "") return;
    this.error = "";
    this.device ??= await loadOrCreateDevice();
    try {
      const hello = await this.client.connect({ url: this.target.url, token: this.token, device: this.device });
      this.presence = hello.snapshot.presence ?? [];
      this.health = hello.snapshot.health;
      void this.#refreshHealth();
      void this.#refreshNodes();
      // Presence is broadcast on disconnects and system events, not on connects (§2.9), and
      // node.list has no event: both are also polled.
      this.#nodesTimer = setInterval(() => {
        void this.#refreshNodes();
        void this.#refreshPresence();
      }, NODES_POLL_MS);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  #stopPolling(): void {
    if (this.#nodesTimer) clearInterval(this.#nodesTimer);
    this.#nodesTimer = null;
  }

  #onEvent(event: string, payload: unknown): void {
    if (event === "presence") {
      const list = (payload as { presence?: PresenceEntry[] } | undefined)?.presence;
      if (Array.isArray(list)) this.presence = list;
      void this.#refreshNodes();
    } else if (event === "health") {
      this.health = payload;
    } else if (event.startsWith("node.pair.") || event.startsWith("device.pair.")) {
      void this.#refreshNodes();
    }
  }

  async #refreshNodes(): Promise<void> {
    if (this.#nodesPending || !this.client.has("node.list")) return;
    this.#nodesPending = true;
    try {
      const r = await this.client.request<{ nodes: NodeInfo[] }>("node.list");
      this.nodes = r.nodes;
    } catch {
      // Shown as stale; the next poll retries.
    } finally {
      this.#nodesPending = false;
    }
  }

  async #refreshPresence(): Promise<void> {
    if (!this.client.has("system-presence")) return;
    try {
      const list = await this.client.request<PresenceEntry[]>("system-presence");
      if (Array.isArray(list)) this.presence = list;
    } catch {
      // The next poll retries.
    }
  }

  async #refreshHealth(): Promise<void> {
    try {
      this.health = await this.client.request("health");
      this.healthError = "";
    } catch (err) {
      this.healthError = err instanceof Error ? err.message : String(err);
    }
  }

  #sessions(): string[] {
    const main = this.client.hello?.snapshot.sessionDefaults?.mainSessionKey ?? "main";
    const recent = ((this.health as { sessions?: { recent?: { key?: unknown }[] } } | null)?.sessions?.recent ?? [])
      .map((r) => r.key)
      .filter((k): k is string => typeof k === "string");
    return [main, ...recent.filter((k) => k !== main)];
  }

  #connectBar() {
    const t = this.target;
    const connected = this.state === "connected";
    return html`<section class="card connect" data-testid="connect-card">
      ${t.refused
        ? html`<div class="notice refused" data-testid="target-refused">Not connecting: ${t.refused}.</div>`
        : t.explicit && !connected
          ? html`<div class="notice" data-testid="target-confirm">This page was opened with a gateway address:
              <code data-testid="target-url">${t.url}</code>. Your token is sent there only when you press Connect.</div>`
          : nothing}
      <div class="row">
        <label>Token <input type="password" autocomplete="off" data-testid="token-input" .value=${this.token}
          @input=${(e: Event) => (this.token = (e.target as HTMLInputElement).value)} ?disabled=${connected}></label>
        ${connected
          ? html`<button data-testid="disconnect" @click=${() => this.client.close()}>Disconnect</button>`
          : html`<button class="primary" data-testid="connect" ?disabled=${Boolean(t.refused) || this.state === "connecting"} @click=${() => this.connect()}>
              ${t.explicit ? `Connect to ${t.url || "…"}` : "Connect"}</button>`}
        <span class="muted">${deviceIdentitySupported() ? (this.device ? `device ${this.device.id.slice(0, 12)}…` : "device identity") : "token-only (not a secure context)"}</span>
      </div>
      ${this.error ? html`<div class="error" data-testid="connect-error">${this.error}</div>` : nothing}
    </section>`;
  }

  #serverInfo() {
    const h = this.client.hello;
    if (!h) return nothing;
    return html`<section class="card" data-testid="server-info">
      <h2>Server</h2>
      <dl>
        <dt>version</dt><dd>${h.server.version}${h.server.commit ? ` (${h.server.commit.slice(0, 8)})` : ""}</dd>
        <dt>host</dt><dd>${h.server.host ?? "–"}</dd>
        <dt>protocol</dt><dd>${h.protocol}</dd>
        <dt>connection</dt><dd><code>${h.server.connId}</code></dd>
        <dt>uptime at connect</dt><dd>${Math.round(h.snapshot.uptimeMs / 1000)} s</dd>
        ${h.snapshot.stateDir ? html`<dt>state dir</dt><dd><code>${h.snapshot.stateDir}</code></dd>` : nothing}
        ${h.canvasHostUrl ? html`<dt>canvas</dt><dd><code>${h.canvasHostUrl}</code></dd>` : nothing}
      </dl>
    </section>`;
  }

  override render() {
    const pill = this.state === "connected" ? "ok" : this.state === "connecting" ? "warn" : "bad";
    return html`<header>
        <h1>Clawdbot Gateway</h1>
        <span class="pill ${pill}" data-testid="conn-state">${this.state}</span>
        <span class="muted">${this.target.url}</span>
      </header>
      ${this.#connectBar()}
      ${this.state === "connected"
        ? html`<div class="grid">
            ${this.#serverInfo()} ${presenceView(this.presence)} ${nodesView(this.nodes)}
            <cb-pairing-panel .client=${this.client}></cb-pairing-panel>
            ${healthView(this.health, this.healthError)}
            <cb-chat-panel class="wide" .client=${this.client} .sessions=${this.#sessions()}></cb-chat-panel>
            <cb-logs-panel class="wide" .client=${this.client}></cb-logs-panel>
          </div>`
        : nothing}`;
  }
}
customElements.define("clawdbot-control-app", ControlApp);
