/**
 * Thousands of device-signed node clients in one test process, over raw TCP sockets
 * (the `ws` package costs too much per socket to host 2,000 next to the gateway).
 *
 * Each node: HTTP upgrade → `connect.challenge` → signed v2 `connect` (role node) →
 * hello-ok; then it records `tick` payloads and closes. With `reconnect`, a closed
 * node comes back after the reference client's backoff (1 s, doubling, 30 s cap),
 * presenting the device token it got in hello-ok (as the reference client prefers).
 */
import net from "node:net";
import { randomBytes } from "node:crypto";
import { createDevice, signDevice, type DeviceKey } from "./device.js";
import { FrameParser, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, maskedFrame, maskedText } from "./ws-frames.js";

const enum State {
  Idle,
  Upgrading,
  Handshaking,
  Ready,
}

export interface FleetOptions {
  port: number;
  count: number;
  /** Shared gateway token (used until a device token was issued). */
  token: string;
  /** Handshakes in flight at once. Default 128. */
  concurrency?: number;
  platform?: string;
  commands?: string[];
}

class FleetNode {
  state = State.Idle;
  socket: net.Socket | null = null;
  buf: Buffer = Buffer.alloc(0);
  upgraded = false;
  parser: FrameParser | null = null;
  deviceToken: string | null = null;
  lastTickTs = 0;
  backoffMs = 1000;
  constructor(readonly key: DeviceKey) {}
}

export class NodeFleet {
  readonly nodes: FleetNode[] = [];
  private readonly queue: FleetNode[] = [];
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private reconnect = false;
  private closing = false;
  /** Close codes seen (code → count). */
  readonly closeCodes = new Map<number, number>();
  /** Handshakes refused (connect res ok:false). */
  refused = 0;

  constructor(private readonly o: FleetOptions) {
    for (let i = 0; i < o.count; i++) this.nodes.push(new FleetNode(createDevice()));
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.key.id);
  }

  get readyCount(): number {
    let n = 0;
    for (const node of this.nodes) if (node.state === State.Ready) n++;
    return n;
  }

  /** How many nodes saw a tick whose ts is `ts`. */
  tickCount(ts: number): number {
    let n = 0;
    for (const node of this.nodes) if (node.lastTickTs === ts) n++;
    return n;
  }

  /** Connects every node; resolves when all are ready. Later closes reconnect when `reconnect`. */
  async connectAll(opts: { reconnect?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.reconnect = opts.reconnect ?? false;
    for (const n of this.nodes) this.enqueue(n);
    await this.until(() => this.readyCount === this.nodes.length, opts.timeoutMs ?? 30_000);
  }

  /** Resolves when `cond` holds (re-checked on every frame or close). */
  until(cond: () => boolean, timeoutMs: number): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet: condition not met in ${timeoutMs} ms (ready ${this.readyCount}/${this.nodes.length})`)), timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Drops every socket without a close frame; no reconnects. */
  destroyAll(): void {
    this.closing = true;
    for (const n of this.nodes) n.socket?.destroy();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private enqueue(n: FleetNode): void {
    this.queue.push(n);
    this.pump();
  }

  private pump(): void {
    const max = this.o.concurrency ?? 128;
    while (this.inFlight < max && this.queue.length > 0) {
      const n = this.queue.shift() as FleetNode;
      this.inFlight++;
      this.open(n);
    }
  }

  private handshakeDone(n: FleetNode): void {
    if (n.state === State.Upgrading || n.state === State.Handshaking) {
      this.inFlight--;
      this.pump();
    }
  }

  private open(n: FleetNode): void {
    n.state = State.Upgrading;
    n.buf = Buffer.alloc(0);
    n.upgraded = false;
    n.parser = new FrameParser((op, _fin, payload) => this.frame(n, op, payload));
    const s = net.connect(this.o.port, "127.0.0.1");
    n.socket = s;
    s.setNoDelay(true);
    s.on("connect", () => {
      s.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${this.o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    s.on("data", (d: Buffer) => this.data(n, d));
    s.on("error", () => undefined);
    s.on("close", () => this.closed(n, s));
  }

  private closed(n: FleetNode, s: net.Socket): void {
    if (n.socket !== s) return;
    this.handshakeDone(n);
    n.state = State.Idle;
    n.socket = null;
    this.notify();
    if (!this.reconnect || this.closing) return;
    const delay = n.backoffMs;
    n.backoffMs = Math.min(n.backoffMs * 2, 30_000);
    setTimeout(() => this.enqueue(n), delay).unref();
  }

  private data(n: FleetNode, d: Buffer): void {
    if (!n.upgraded) {
      n.buf = n.buf.length === 0 ? d : Buffer.concat([n.buf, d]);
      const end = n.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (!n.buf.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 101")) {
        n.socket?.destroy();
        return;
      }
      n.upgraded = true;
      n.state = State.Handshaking;
      d = n.buf.subarray(end + 4);
      n.buf = Buffer.alloc(0);
    }
    n.parser?.push(d);
  }

  private frame(n: FleetNode, op: number, payload: Buffer): void {
    if (op === OP_TEXT) this.text(n, payload.toString("utf8"));
    else if (op === OP_CLOSE) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
      // Reset rather than a graceful reply: a graceful close leaves TIME_WAIT on the
      // gateway's port, which this uWS build cannot re-bind over (no SO_REUSEADDR), and
      // the restart below would then fail for 60 s. See bench/fanout/node-fleet.ts.
      n.socket?.resetAndDestroy();
    } else if (op === OP_PING) n.socket?.write(maskedFrame(OP_PONG, Buffer.from(payload)));
  }

  private text(n: FleetNode, text: string): void {
    const f = JSON.parse(text) as { type: string; event?: string; ok?: boolean; payload?: { nonce?: string; ts?: number; auth?: { deviceToken?: string } } };
    if (f.type === "event" && f.event === "connect.challenge") {
      n.socket?.write(maskedText(JSON.stringify({ type: "req", id: "c", method: "connect", params: this.connectParams(n, f.payload?.nonce ?? "") })));
    } else if (f.type === "res" && n.state === State.Handshaking) {
      this.handshakeDone(n);
      if (f.ok) {
        n.state = State.Ready;
        n.backoffMs = 1000;
        n.deviceToken = f.payload?.auth?.deviceToken ?? n.deviceToken;
      } else {
        this.refused++;
      }
      this.notify();
    } else if (f.type === "event" && f.event === "tick") {
      n.lastTickTs = f.payload?.ts ?? 0;
      this.notify();
    }
  }

  private connectParams(n: FleetNode, nonce: string): Record<string, unknown> {
    const token = n.deviceToken ?? this.o.token;
    return {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "node-host", version: "fleet", platform: this.o.platform ?? "linux", mode: "node" },
      role: "node",
      scopes: [],
      commands: this.o.commands ?? ["system.run", "system.which"],
      caps: ["system"],
      auth: { token },
      device: signDevice(n.key, { clientId: "node-host", clientMode: "node", role: "node", scopes: [], signedAt: Date.now(), token, nonce }),
    };
  }
}
