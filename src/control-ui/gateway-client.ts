/**
 * The page's WebSocket client (protocol 3): waits for `connect.challenge`, sends `connect`
 * (device-signed when a device identity is available), then matches `res` frames to requests
 * and hands `event` frames to listeners. It never reconnects by itself with credentials the
 * user did not confirm: a dropped connection goes back to "disconnected" and the page offers
 * Connect again. Credentials are never logged.
 */
import { signConnect, type BrowserDevice } from "./device-identity.js";

export const CLIENT_ID = "clawdbot-control-ui";
export const CLIENT_MODE = "webchat";
const SCOPES = ["operator.admin"] as const;
/** The reference client sends `connect` without a nonce when no challenge came within 750 ms (§2.1). */
const CHALLENGE_WAIT_MS = 750;
const REQUEST_TIMEOUT_MS = 30_000;

/** An error answer (`res.ok:false`) or a transport failure. */
export class GatewayRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** `hello-ok`, as far as the page reads it. */
export interface HelloOk {
  protocol: number;
  server: { version: string; commit?: string; host?: string; connId: string };
  features: { methods: string[]; events: string[] };
  snapshot: {
    presence: PresenceEntry[];
    health: unknown;
    uptimeMs: number;
    configPath?: string;
    stateDir?: string;
    sessionDefaults?: { defaultAgentId: string; mainKey: string; mainSessionKey: string; scope: string };
  };
  canvasHostUrl?: string;
  auth?: { deviceToken?: string; role?: string; scopes?: string[] };
}

/** A presence entry (§6.1), fields the page shows. */
export interface PresenceEntry {
  host?: string;
  ip?: string;
  version?: string;
  platform?: string;
  mode?: string;
  roles?: string[];
  deviceId?: string;
  instanceId?: string;
  reason?: string;
  ts?: number;
  text?: string;
}

export type ConnectionState = "disconnected" | "connecting" | "connected";

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** What `connect()` needs. */
export interface ConnectOptions {
  url: string;
  token: string;
  device: BrowserDevice | undefined;
}

type EventListener = (event: string, payload: unknown) => void;

/** One gateway connection. */
export class GatewayClient extends EventTarget {
  state: ConnectionState = "disconnected";
  hello: HelloOk | null = null;
  lastError = "";
  #ws: WebSocket | null = null;
  #pending = new Map<string, Pending>();
  #seq = 0;
  #listeners = new Set<EventListener>();

  /** Subscribes to gateway events; returns the unsubscribe function. */
  onEvent(fn: EventListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #setState(state: ConnectionState, error = ""): void {
    this.state = state;
    this.lastError = error;
    this.dispatchEvent(new Event("state"));
  }

  /** Opens the socket and completes the handshake. Rejects with the gateway's message on failure. */
  async connect(o: ConnectOptions): Promise<HelloOk> {
    this.close();
    this.#setState("connecting");
    const ws = new WebSocket(o.url);
    this.#ws = ws;
    let challenge: (nonce: string | undefined) => void = () => {};
    const nonce = new Promise<string | undefined>((resolve) => {
      challenge = resolve;
      setTimeout(() => resolve(undefined), CHALLENGE_WAIT_MS);
    });
    ws.addEventListener("message", (m) => {
      if (typeof m.data !== "string") return;
      let frame: { type?: string; id?: string; ok?: boolean; payload?: unknown; error?: { code?: string; message?: string; details?: unknown }; event?: string };
      try {
        frame = JSON.parse(m.data) as typeof frame;
      } catch {
        return;
      }
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const n = (frame.payload as { nonce?: unknown } | undefined)?.nonce;
        challenge(typeof n === "string" ? n : undefined);
        return;
      }
      if (frame.type === "res" && typeof frame.id === "string") {
        const p = this.#pending.get(frame.id);
        if (!p) return;
        this.#pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.payload);
        else p.reject(new GatewayRequestError(frame.error?.message ?? "request failed", frame.error?.code ?? "UNAVAILABLE", frame.error?.details));
        return;
      }
      if (frame.type === "event" && typeof frame.event === "string") {
        for (const fn of this.#listeners) fn(frame.event, frame.payload);
      }
    });
    ws.addEventListener("close", (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new GatewayRequestError(e.reason || `connection closed (${e.code})`, "UNAVAILABLE"));
        this.#pending.delete(id);
      }
      this.#setState("disconnected", e.reason || (this.state === "connected" ? `connection closed (${e.code})` : this.lastError));
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("close", () => reject(new GatewayRequestError("could not connect", "UNAVAILABLE")), { once: true });
    });
    const n = await nonce;
    const client = { id: CLIENT_ID, displayName: "Control UI", version: "control-ui", platform: "web", mode: CLIENT_MODE };
    const params: Record<string, unknown> = { minProtocol: 3, maxProtocol: 3, client, role: "operator", scopes: [...SCOPES], userAgent: navigator.userAgent, locale: navigator.language };
    if (o.token !== "") params.auth = { token: o.token };
    if (o.device) {
      params.device = await signConnect(o.device, { clientId: CLIENT_ID, clientMode: CLIENT_MODE, role: "operator", scopes: SCOPES, token: o.token, nonce: n });
    }
    try {
      const hello = (await this.request("connect", params)) as HelloOk;
      this.hello = hello;
      this.#setState("connected");
      return hello;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#setState("disconnected", message);
      this.close();
      throw err;
    }
  }

  /** Sends one request and resolves with its payload. */
  request<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new GatewayRequestError("not connected", "UNAVAILABLE"));
    const id = `ui-${++this.#seq}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new GatewayRequestError(`${method} timed out`, "UNAVAILABLE"));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  /** True when the server advertises `method` (plugin and later features may be missing). */
  has(method: string): boolean {
    return this.hello?.features.methods.includes(method) ?? false;
  }

  close(): void {
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
    if (this.state !== "disconnected") this.#setState("disconnected", this.lastError);
  }
}
