/**
 * Pending device pairing requests (`device.pair.*`, the WS handshake gate) and legacy node
 * pairing requests (`node.pair.*`), with Approve / Reject. Refreshes on the pairing events.
 */
import { LitElement, html, nothing } from "lit";
import type { GatewayClient } from "../gateway-client.js";
import { baseStyles } from "../styles.js";

interface PendingRequest {
  requestId: string;
  deviceId?: string;
  nodeId?: string;
  displayName?: string;
  platform?: string;
  clientId?: string;
  role?: string;
  remoteIp?: string;
  isRepair?: boolean;
  ts?: number;
}

type Kind = "device" | "node";

const REFRESH_EVENTS = new Set(["device.pair.requested", "device.pair.resolved", "node.pair.requested", "node.pair.resolved"]);

export class PairingPanel extends LitElement {
  static override properties = { client: { attribute: false }, devices: { state: true }, nodes: { state: true }, error: { state: true }, busy: { state: true } };
  static override styles = baseStyles;

  client: GatewayClient | null = null;
  devices: PendingRequest[] = [];
  nodes: PendingRequest[] = [];
  error = "";
  busy = "";
  #off: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.#off = this.client?.onEvent((event) => {
      if (REFRESH_EVENTS.has(event)) void this.refresh();
    }) ?? null;
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#off?.();
  }

  async refresh(): Promise<void> {
    const c = this.client;
    if (!c) return;
    try {
      const [d, n] = await Promise.all([
        c.has("device.pair.list") ? c.request<{ pending: PendingRequest[] }>("device.pair.list") : { pending: [] },
        c.has("node.pair.list") ? c.request<{ pending: PendingRequest[] }>("node.pair.list") : { pending: [] },
      ]);
      this.devices = d.pending;
      this.nodes = n.pending;
      this.error = "";
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  async #decide(kind: Kind, requestId: string, decision: "approve" | "reject"): Promise<void> {
    if (!this.client) return;
    this.busy = requestId;
    try {
      await this.client.request(`${kind}.pair.${decision}`, { requestId });
      this.error = "";
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = "";
      await this.refresh();
    }
  }

  #item(kind: Kind, r: PendingRequest) {
    const who = r.displayName ?? r.nodeId ?? r.deviceId?.slice(0, 12) ?? r.requestId;
    return html`<li data-testid="pairing-request" data-kind=${kind} data-request-id=${r.requestId}>
      <div class="row"><strong>${who}</strong><span class="pill">${kind}</span>
        ${r.role ? html`<span class="pill">${r.role}</span>` : nothing}
        ${r.isRepair ? html`<span class="pill warn">repair</span>` : nothing}</div>
      <div class="muted">${[r.platform, r.clientId, r.remoteIp].filter(Boolean).join(" · ")}</div>
      <div class="row" style="margin-top:.3rem">
        <button class="primary" data-testid="approve" ?disabled=${this.busy !== ""} @click=${() => this.#decide(kind, r.requestId, "approve")}>Approve</button>
        <button class="danger" data-testid="reject" ?disabled=${this.busy !== ""} @click=${() => this.#decide(kind, r.requestId, "reject")}>Reject</button>
      </div>
    </li>`;
  }

  override render() {
    const total = this.devices.length + this.nodes.length;
    return html`<section class="card" data-testid="pairing">
      <h2>Pairing requests <span class="pill ${total ? "warn" : ""}">${total}</span></h2>
      ${this.error ? html`<div class="error">${this.error}</div>` : nothing}
      ${total === 0
        ? html`<div class="muted">No pending requests.</div>`
        : html`<ul>${this.devices.map((r) => this.#item("device", r))}${this.nodes.map((r) => this.#item("node", r))}</ul>`}
    </section>`;
  }
}
customElements.define("cb-pairing-panel", PairingPanel);
