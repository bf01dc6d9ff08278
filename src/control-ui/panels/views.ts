/** Read-only views of the Control UI (presence, nodes, health): template functions of plain data. */
import { html, nothing, type TemplateResult } from "lit";
import type { PresenceEntry } from "../gateway-client.js";

/** A node as `node.list` returns it (§3.11). */
export interface NodeInfo {
  nodeId: string;
  displayName?: string;
  platform?: string;
  version?: string;
  remoteIp?: string;
  caps: string[];
  commands: string[];
  paired: boolean;
  connected: boolean;
}

function ago(ts: number | undefined): string {
  if (typeof ts !== "number") return "";
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function presenceView(entries: readonly PresenceEntry[]): TemplateResult {
  return html`<section class="card" data-testid="presence">
    <h2>Presence <span class="pill">${entries.length}</span></h2>
    ${entries.length === 0
      ? html`<div class="muted">Nobody connected.</div>`
      : html`<ul>
          ${entries.map(
            (p) => html`<li data-testid="presence-entry">
              <div class="row"><strong>${p.host ?? p.instanceId ?? "?"}</strong>
                ${p.mode ? html`<span class="pill">${p.mode}</span>` : nothing}
                ${(p.roles ?? []).map((r) => html`<span class="pill">${r}</span>`)}</div>
              <div class="muted">${[p.platform, p.version, p.ip, ago(p.ts)].filter(Boolean).join(" · ")}</div>
            </li>`,
          )}
        </ul>`}
  </section>`;
}

export function nodesView(nodes: readonly NodeInfo[]): TemplateResult {
  return html`<section class="card" data-testid="nodes">
    <h2>Nodes <span class="pill">${nodes.length}</span></h2>
    ${nodes.length === 0
      ? html`<div class="muted">No nodes.</div>`
      : html`<ul>
          ${nodes.map(
            (n) => html`<li data-testid="node" data-node-id=${n.nodeId}>
              <div class="row"><strong>${n.displayName ?? n.nodeId.slice(0, 12)}</strong>
                <span class="pill ${n.connected ? "ok" : ""}">${n.connected ? "connected" : "offline"}</span>
                ${n.paired ? html`<span class="pill">paired</span>` : nothing}
                <span class="muted">${[n.platform, n.version, n.remoteIp].filter(Boolean).join(" · ")}</span></div>
              <div class="muted">caps: ${n.caps.length ? n.caps.join(", ") : "–"}</div>
              <div class="muted">commands: <code>${n.commands.length ? n.commands.join(", ") : "–"}</code></div>
            </li>`,
          )}
        </ul>`}
  </section>`;
}

interface WorkerHealth {
  name?: string;
  state?: string;
  restarts?: number;
  [k: string]: unknown;
}

function stateClass(state: unknown): string {
  const s = String(state ?? "").toLowerCase();
  if (["running", "ok", "connected", "ready", "up"].includes(s)) return "ok";
  if (["failed", "error", "down", "stopped", "broken"].includes(s)) return "bad";
  return "warn";
}

export function healthView(health: unknown, error: string): TemplateResult {
  const h = (health && typeof health === "object" ? health : {}) as { ok?: boolean; ts?: number; channels?: Record<string, unknown>; workers?: WorkerHealth[] };
  const channels = Object.entries(h.channels ?? {});
  const workers = Array.isArray(h.workers) ? h.workers : [];
  return html`<section class="card" data-testid="health">
    <h2>Health ${h.ok === undefined ? nothing : html`<span class="pill ${h.ok ? "ok" : "bad"}">${h.ok ? "ok" : "degraded"}</span>`}
      <span class="muted">${ago(h.ts)}</span></h2>
    ${error ? html`<div class="error">${error}</div>` : nothing}
    <div><strong>Channels</strong></div>
    ${channels.length === 0
      ? html`<div class="muted">No channel configured.</div>`
      : html`<ul>${channels.map(([id, c]) => {
          const st = (c as { state?: unknown; status?: unknown } | null)?.state ?? (c as { status?: unknown } | null)?.status ?? "configured";
          return html`<li data-testid="channel"><span class="row">${id} <span class="pill ${stateClass(st)}">${String(st)}</span></span></li>`;
        })}</ul>`}
    <div style="margin-top:.5rem"><strong>Workers</strong></div>
    ${workers.length === 0
      ? html`<div class="muted">No worker threads.</div>`
      : html`<ul>${workers.map(
          (w) => html`<li data-testid="worker"><span class="row">${w.name ?? "worker"} <span class="pill ${stateClass(w.state)}">${String(w.state ?? "?")}</span>
            ${typeof w.restarts === "number" ? html`<span class="muted">restarts: ${w.restarts}</span>` : nothing}</span></li>`,
        )}</ul>`}
  </section>`;
}
