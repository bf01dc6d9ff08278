/**
 * The A2UI page served at `/__clawdbot__/a2ui/` (protocol reference §7.7), rendered by the
 * A2UI project's own Lit renderer (`@a2ui/lit`, protocol v0.8 messages).
 *
 * How payloads arrive: a node (the iOS/Android/macOS app, or any webview host) that gets a
 * `canvas.a2ui.push` / `canvas.a2ui.pushJSONL` / `canvas.a2ui.reset` invoke loads this page
 * from `hello-ok.canvasHostUrl` and evaluates JavaScript in it:
 *
 *   globalThis.clawdbotA2UI.applyMessages(messages)   // array, or a JSON string (Android)
 *   globalThis.clawdbotA2UI.reset()
 *   globalThis.clawdbotA2UI.getSurfaces()
 *
 * the same API the reference's bundle exposes, so existing apps drive it unchanged. User
 * actions (button presses) go back through the native handler `clawdbotCanvasA2UIAction`
 * (iOS `webkit.messageHandlers`, Android JS interface) or the canvas bridge
 * `window.Clawdbot.sendUserAction`.
 */
import { Data, type Types } from "@a2ui/lit/v0_8";
import { Context } from "@a2ui/lit/ui";
import { ContextProvider } from "@lit/context";
import { LitElement, css, html, nothing } from "lit";
import { renderMarkdown } from "./a2ui-markdown.js";
import { DEFAULT_THEME } from "./a2ui-theme.js";

/** Most messages accepted in one call (a push is one surface update, not a stream). */
const MAX_MESSAGES = 10_000;

/** Result of an API call, as the apps expect it (they JSON.stringify it back to the agent). */
export interface A2uiResult {
  ok: boolean;
  error?: string;
  surfaces?: string[];
}

/** A user action in the shape the reference forwards to the native handler. */
interface UserAction {
  id: string;
  name: string;
  surfaceId: string;
  sourceComponentId: string;
  dataContextPath: string;
  timestamp: string;
  context?: Record<string, unknown>;
}

interface NativeHandler {
  postMessage(message: unknown): void;
}

function nativeHandler(): NativeHandler | undefined {
  const g = globalThis as unknown as {
    webkit?: { messageHandlers?: { clawdbotCanvasA2UIAction?: NativeHandler } };
    clawdbotCanvasA2UIAction?: NativeHandler;
  };
  return g.webkit?.messageHandlers?.clawdbotCanvasA2UIAction ?? g.clawdbotCanvasA2UIAction;
}

function parseMessages(input: unknown): Types.ServerToClientMessage[] {
  const value: unknown = typeof input === "string" ? JSON.parse(input) : input;
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length > MAX_MESSAGES) throw new Error(`too many messages (max ${MAX_MESSAGES})`);
  for (const m of list) {
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw new Error("each A2UI message must be an object");
  }
  return list as Types.ServerToClientMessage[];
}

/** `<clawdbot-a2ui-host>`: owns the message processor and renders one `<a2ui-surface>` per surface. */
export class A2uiHost extends LitElement {
  static override styles = css`
    :host { display: flex; flex-direction: column; gap: 1rem; }
    .empty { color: #888; font-size: 0.9rem; }
  `;

  readonly processor = Data.createSignalA2uiMessageProcessor();
  #actions = 0;

  constructor() {
    super();
    // The A2UI components read their class maps from this context.
    new ContextProvider(this, { context: Context.themeContext, initialValue: DEFAULT_THEME });
    new ContextProvider(this, { context: Context.markdown, initialValue: renderMarkdown });
    this.addEventListener("a2uiaction", (e) => this.#forward(e));
  }

  /** Applies A2UI v0.8 server-to-client messages (array or JSON text). */
  applyMessages(input: unknown): A2uiResult {
    try {
      this.processor.processMessages(parseMessages(input));
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    this.requestUpdate();
    return { ok: true, surfaces: this.surfaceIds() };
  }

  /** Removes every surface. */
  reset(): A2uiResult {
    this.processor.clearSurfaces();
    this.requestUpdate();
    return { ok: true, surfaces: [] };
  }

  surfaceIds(): string[] {
    return [...this.processor.getSurfaces().keys()];
  }

  #forward(e: Event): void {
    const detail = (e as CustomEvent<{ action?: { name?: string; context?: unknown }; sourceComponentId?: string; dataContextPath?: string }>).detail;
    const name = detail?.action?.name;
    if (typeof name !== "string" || name === "") return;
    const surface = e.composedPath().find((n): n is HTMLElement => n instanceof HTMLElement && n.tagName === "A2UI-SURFACE") as (HTMLElement & { surfaceId?: string | null }) | undefined;
    const action: UserAction = {
      id: `a2ui-${Date.now().toString(36)}-${(this.#actions++).toString(36)}`,
      name,
      surfaceId: surface?.surfaceId ?? "main",
      sourceComponentId: detail.sourceComponentId ?? "",
      dataContextPath: detail.dataContextPath ?? "",
      timestamp: new Date().toISOString(),
    };
    const handler = nativeHandler();
    if (handler) {
      handler.postMessage({ userAction: action });
      return;
    }
    const bridge = (globalThis as unknown as { Clawdbot?: { sendUserAction?: (a: unknown) => unknown } }).Clawdbot;
    bridge?.sendUserAction?.(action);
  }

  override render() {
    const surfaces = [...this.processor.getSurfaces().entries()];
    if (surfaces.length === 0) return html`<div class="empty" part="empty">No A2UI surface yet.</div>`;
    return html`${surfaces.map(
      ([id, surface]) => html`<a2ui-surface data-surface-id=${id} .surfaceId=${id} .surface=${surface} .processor=${this.processor}></a2ui-surface>`,
    )}${nothing}`;
  }
}

customElements.define("clawdbot-a2ui-host", A2uiHost);

function host(): A2uiHost {
  const el = document.querySelector("clawdbot-a2ui-host");
  if (el instanceof A2uiHost) return el;
  const created = new A2uiHost();
  document.body.appendChild(created);
  return created;
}

/** The page API the node apps call (same names as the reference bundle). */
const api = {
  version: "a2ui-lit-0.8",
  applyMessages: (messages: unknown): A2uiResult => host().applyMessages(messages),
  reset: (): A2uiResult => host().reset(),
  getSurfaces: (): string[] => host().surfaceIds(),
};
(globalThis as unknown as { clawdbotA2UI: typeof api }).clawdbotA2UI = api;
