/**
 * A protocol-3 test client over the `ws` package: buffers every frame, lets tests
 * await frames by predicate, and records the close code/reason.
 */
import WebSocket from "ws";
import { randomUUID } from "node:crypto";
import { TEST_TOKEN } from "./gateway.js";
import { signDevice, type TestDevice } from "./device.js";

export type Frame = {
  type: string;
  id?: string;
  ok?: boolean;
  payload?: any;
  error?: { code: string; message: string; details?: any; retryable?: boolean };
  event?: string;
  seq?: number;
  stateVersion?: { presence: number; health: number };
};

export interface OpenOptions {
  headers?: Record<string, string>;
  origin?: string;
  maxPayload?: number;
}

export class TestClient {
  readonly frames: Frame[] = [];
  /**
   * When false, incoming frames still resolve waiting `next()`/`request()` calls but are not
   * kept in `frames`: a loop of thousands of requests (latency measurements) then neither
   * grows the test process's heap nor pays GC pauses that would be counted as gateway latency.
   */
  retainFrames = true;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      let f: Frame;
      try {
        f = JSON.parse(data.toString()) as Frame;
      } catch {
        return;
      }
      if (this.retainFrames) this.frames.push(f);
      if (this.waiters.length === 0) return;
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(f)) {
          w.resolve(f);
          return false;
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, opts: OpenOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers: opts.headers, origin: opts.origin, maxPayload: opts.maxPayload ?? 64 * 1024 * 1024 });
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
  }

  /** Resolves with the first frame (buffered or future) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    for (let i = fromIndex; i < this.frames.length; i++) if (pred(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return this.#future(pred, timeoutMs);
  }

  /** Resolves with the first future frame matching `pred`. */
  #future(pred: (f: Frame) => boolean, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for frame; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  event(name: string, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    return this.next((f) => f.type === "event" && f.event === name, timeoutMs, fromIndex);
  }

  async challenge(): Promise<string> {
    const f = await this.event("connect.challenge");
    return f.payload.nonce as string;
  }

  sendRaw(text: string | Buffer): void {
    this.ws.send(text);
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  /** Sends a request and resolves with its (first) response. */
  request(method: string, params?: unknown, timeoutMs = 5000): Promise<Frame> {
    const id = `r${this.nextId++}`;
    // The id is new: its response can only be a future frame (no scan of the kept ones).
    const p = this.#future((f) => f.type === "res" && f.id === id, timeoutMs);
    this.send(params === undefined ? { type: "req", id, method } : { type: "req", id, method, params });
    return p;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export interface ConnectOptions {
  client?: Record<string, unknown>;
  role?: string;
  scopes?: string[];
  token?: string | null;
  password?: string;
  device?: TestDevice;
  /** Sign without nonce (v1). */
  v1?: boolean;
  signedAt?: number;
  extra?: Record<string, unknown>;
  minProtocol?: number;
  maxProtocol?: number;
}

/** Builds connect params; signs with `device` when given (v2 with the challenge nonce). */
export function buildConnectParams(nonce: string | undefined, o: ConnectOptions = {}): Record<string, unknown> {
  const client = { id: "test", version: "1.0.0", platform: "linux", mode: "test", instanceId: randomUUID(), ...o.client };
  const params: Record<string, unknown> = {
    minProtocol: o.minProtocol ?? 3,
    maxProtocol: o.maxProtocol ?? 3,
    client,
    ...(o.role ? { role: o.role } : {}),
    ...(o.scopes ? { scopes: o.scopes } : {}),
    ...o.extra,
  };
  const token = o.token === undefined ? TEST_TOKEN : o.token;
  const auth: Record<string, string> = {};
  if (token !== null) auth.token = token;
  if (o.password !== undefined) auth.password = o.password;
  if (Object.keys(auth).length > 0) params.auth = auth;
  if (o.device) {
    params.device = signDevice(o.device, {
      clientId: String(client.id),
      clientMode: String(client.mode),
      role: o.role ?? "operator",
      scopes: o.scopes ?? [],
      token: token ?? "",
      nonce: o.v1 ? undefined : nonce,
      signedAt: o.signedAt ?? Date.now(),
    });
  }
  return params;
}

/** Opens a socket, waits for the challenge, sends connect; returns the client and the connect response. */
export async function connectClient(url: string, o: ConnectOptions & OpenOptions = {}): Promise<{ client: TestClient; res: Frame }> {
  const client = await TestClient.open(url, o);
  const nonce = await client.challenge();
  const res = await client.request("connect", buildConnectParams(nonce, o));
  return { client, res };
}

/** connectClient that asserts success. */
export async function connectOk(url: string, o: ConnectOptions & OpenOptions = {}): Promise<{ client: TestClient; hello: any }> {
  const { client, res } = await connectClient(url, o);
  if (!res.ok) throw new Error(`connect failed: ${JSON.stringify(res.error)}`);
  return { client, hello: res.payload };
}
