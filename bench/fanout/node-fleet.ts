/**
 * A fleet of device-signed protocol-3 nodes over raw TCP sockets, as `clawdbot node run`
 * connects: HTTP upgrade → `connect.challenge` → `connect` (role node, scopes [], client
 * node-host/node, v2 Ed25519 signature over the challenge nonce) → hello-ok.
 *
 * Like the reference client, a node that loses its socket reconnects with backoff
 * (1 s, doubling, 30 s cap) and then presents the device token it got in hello-ok
 * instead of the shared token. It answers `node.invoke.request` with `node.invoke.result`
 * and replies to a close frame with a close frame before ending the socket (as `ws` does).
 *
 * Handshakes are queued per source IP with a bounded number in flight, because the
 * gateway admits at most 64 unauthenticated sockets per IP: a real fleet comes from many
 * addresses, so this one is spread over 127.x.y.z.
 */
import { connect as netConnect, type Socket } from "node:net";
import { FrameParser, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, maskedFrame, maskedText } from "../../test/helpers/ws-frames.js";
import { createDevice, signDevice, type DeviceKey } from "../../test/helpers/device.js";
import type { FleetInit, TickSpan } from "./fleet-protocol.js";

const enum State {
  Idle,
  Queued,
  Upgrading,
  Challenge,
  Hello,
  Ready,
  /** connect answered ok:false; waiting for the gateway to close the socket. */
  Refused,
}

const HEAD_END = Buffer.from("\r\n\r\n");
const DEVICE_TOKEN = /"deviceToken":"([0-9a-f]+)"/;
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

class FleetNode {
  state = State.Idle;
  socket: Socket | null = null;
  parser: FrameParser | null = null;
  head: Buffer | null = null;
  deviceToken: string | null = null;
  backoffMs = BACKOFF_START_MS;
  timer: NodeJS.Timeout | null = null;
  /** Mark this node last became ready under (see `NodeFleet.mark`). */
  markId = 0;

  constructor(
    readonly key: DeviceKey,
    readonly ip: IpQueue,
  ) {}
}

/** Handshakes waiting / in flight from one source address. */
class IpQueue {
  readonly waiting: FleetNode[] = [];
  inFlight = 0;
  constructor(readonly ip: string) {}
}

export class NodeFleet {
  readonly nodes: FleetNode[] = [];
  private readonly ips: IpQueue[];
  private readonly upgrade: Buffer;
  private reconnect = true;
  private recordTicks = false;
  private latencies: number[] = [];
  private spans = new Map<number, TickSpan>();
  private waiters: (() => void)[] = [];
  readyCount = 0;
  /** Nodes that became ready after the last `mark()` and are still ready. */
  readySinceMark = 0;
  /** When the first node became ready after the last `mark()` (epoch ms; 0 = none yet). */
  firstReadyAfterMark = 0;
  private markId = 0;
  failures = 0;
  refused = 0;
  reconnects = 0;
  invokesAnswered = 0;
  lastError: string | undefined;
  readonly closeCodes: Record<string, number> = {};

  constructor(private readonly o: FleetInit) {
    this.ips = o.sourceIps.map((ip) => new IpQueue(ip));
    for (let i = 0; i < o.count; i++) this.nodes.push(new FleetNode(createDevice(), this.ips[i % this.ips.length] as IpQueue));
    this.upgrade = Buffer.from(
      `GET ${o.path} HTTP/1.1\r\nHost: ${o.hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      "latin1",
    );
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.key.id);
  }

  /** Queues every idle node for a handshake. */
  connectAll(): void {
    this.reconnect = true;
    for (const n of this.nodes) if (n.state === State.Idle) this.enqueue(n);
  }

  /** Resolves when `cond()` holds, re-checked on every state change; rejects after `timeoutMs`. */
  until(cond: () => boolean, timeoutMs: number): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`fleet: ${this.readyCount}/${this.nodes.length} ready after ${timeoutMs} ms (${this.lastError ?? "no error"})`));
      }, timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Starts counting nodes that (re)connect from now on (`readySinceMark`). */
  mark(): void {
    this.markId++;
    this.readySinceMark = 0;
    this.firstReadyAfterMark = 0;
  }

  startTicks(): void {
    this.latencies = [];
    this.spans.clear();
    this.recordTicks = true;
  }

  stopTicks(): { latencies: number[]; spans: TickSpan[] } {
    this.recordTicks = false;
    return { latencies: this.latencies, spans: [...this.spans.values()] };
  }

  /** Drops every socket; no reconnects. */
  destroyAll(): void {
    this.reconnect = false;
    for (const n of this.nodes) {
      if (n.timer) clearTimeout(n.timer);
      n.timer = null;
      n.socket?.destroy();
    }
    for (const q of this.ips) q.waiting.length = 0;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private enqueue(n: FleetNode): void {
    n.state = State.Queued;
    n.ip.waiting.push(n);
    this.pump(n.ip);
  }

  private pump(q: IpQueue): void {
    while (q.inFlight < this.o.perIpInFlight && q.waiting.length > 0) {
      const n = q.waiting.shift() as FleetNode;
      q.inFlight++;
      this.open(n);
    }
  }

  /** A handshake ended (ok or not): frees its in-flight slot. */
  private settle(n: FleetNode): void {
    if (n.state === State.Upgrading || n.state === State.Challenge || n.state === State.Hello) {
      n.ip.inFlight--;
      this.pump(n.ip);
    }
  }

  private open(n: FleetNode): void {
    n.state = State.Upgrading;
    n.head = null;
    n.parser = new FrameParser((op, _fin, data) => this.frame(n, op, data), { full: true });
    const s = netConnect({ host: this.o.host, port: this.o.port, localAddress: n.ip.ip, noDelay: true });
    n.socket = s;
    const deadline = setTimeout(() => {
      if (n.socket === s && n.state !== State.Ready) {
        this.lastError = `handshake timed out after ${this.o.handshakeTimeoutMs} ms`;
        s.destroy();
      }
    }, this.o.handshakeTimeoutMs);
    deadline.unref();
    s.on("connect", () => s.write(this.upgrade));
    s.on("data", (chunk: Buffer) => this.data(n, s, chunk));
    s.on("error", (err) => {
      this.lastError = err.message;
    });
    s.on("close", () => {
      clearTimeout(deadline);
      this.gone(n, s);
    });
  }

  private gone(n: FleetNode, s: Socket): void {
    if (n.socket !== s) return;
    const wasReady = n.state === State.Ready;
    this.settle(n);
    if (wasReady) {
      this.readyCount--;
      if (n.markId === this.markId) this.readySinceMark--;
    } else this.failures++;
    n.state = State.Idle;
    n.socket = null;
    n.parser = null;
    this.notify();
    if (!this.reconnect) return;
    const delay = n.backoffMs;
    n.backoffMs = Math.min(n.backoffMs * 2, BACKOFF_MAX_MS);
    n.timer = setTimeout(() => {
      n.timer = null;
      this.reconnects++;
      this.enqueue(n);
    }, delay);
  }

  private data(n: FleetNode, s: Socket, chunk: Buffer): void {
    if (n.state !== State.Upgrading) {
      try {
        n.parser?.push(chunk);
      } catch (err) {
        this.lastError = (err as Error).message;
        s.destroy();
      }
      return;
    }
    const buf = n.head ? Buffer.concat([n.head, chunk]) : chunk;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      n.head = buf;
      return;
    }
    n.head = null;
    const status = buf.toString("latin1", 0, buf.indexOf("\r\n"));
    if (!status.startsWith("HTTP/1.1 101")) {
      this.lastError = `upgrade refused: ${status}`;
      s.destroy();
      return;
    }
    n.state = State.Challenge;
    if (buf.length > end + 4) this.data(n, s, buf.subarray(end + 4));
  }

  private frame(n: FleetNode, op: number, data: Buffer): void {
    const s = n.socket;
    if (!s) return;
    if (op === OP_PING) {
      s.write(maskedFrame(OP_PONG, Buffer.from(data)));
      return;
    }
    if (op === OP_CLOSE) {
      const code = data.length >= 2 ? data.readUInt16BE(0) : 1005;
      this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
      if (n.state !== State.Ready) this.lastError = `closed during handshake: ${code} ${data.subarray(2).toString("utf8")}`;
      // Reset instead of the graceful reply the reference client sends: uWS sends its FIN
      // with the close frame, so a graceful close leaves the connection in TIME_WAIT on the
      // gateway's port, and this uWS build's listener has no SO_REUSEADDR — a restart on
      // the same port could not bind for 60 s (see docs/nodes.md). A reset leaves no
      // TIME_WAIT anywhere; the gateway sees the same close either way.
      s.resetAndDestroy();
      return;
    }
    if (op !== OP_TEXT) return;
    switch (n.state) {
      case State.Challenge: {
        const m = /"nonce":"([^"]+)"/.exec(data.toString("utf8"));
        if (!m) return;
        n.state = State.Hello;
        s.write(this.connectFrame(n, m[1] as string));
        return;
      }
      case State.Hello: {
        const text = data.toString("utf8", 0, Math.min(data.length, 200));
        if (!text.startsWith('{"type":"res"')) return;
        this.settle(n);
        if (!text.includes('"ok":true')) {
          this.refused++;
          this.lastError = `connect refused: ${data.toString("utf8").slice(0, 300)}`;
          // The reference client drops a stored device token that failed.
          n.deviceToken = null;
          n.state = State.Refused;
          return;
        }
        const tok = DEVICE_TOKEN.exec(data.toString("utf8", Math.max(0, data.length - 400)));
        if (tok) n.deviceToken = tok[1] as string;
        n.state = State.Ready;
        n.backoffMs = BACKOFF_START_MS;
        this.readyCount++;
        n.markId = this.markId;
        this.readySinceMark++;
        if (this.firstReadyAfterMark === 0) this.firstReadyAfterMark = Date.now();
        this.notify();
        return;
      }
      case State.Ready:
        this.event(n, s, data);
        return;
      default:
        return;
    }
  }

  private event(n: FleetNode, s: Socket, data: Buffer): void {
    // Hot path: ticks are recognised by prefix; only invoke requests are parsed.
    if (data.length < 200 && data.includes('"event":"tick"')) {
      if (!this.recordTicks) return;
      const now = Date.now();
      const m = /"ts":(\d+)/.exec(data.toString("latin1"));
      if (!m) return;
      const ts = Number(m[1]);
      this.latencies.push(now - ts);
      const span = this.spans.get(ts);
      if (span) {
        span.last = Math.max(span.last, now);
        span.first = Math.min(span.first, now);
        span.count++;
      } else {
        this.spans.set(ts, { ts, first: now, last: now, count: 1 });
      }
      return;
    }
    if (!data.includes('"node.invoke.request"')) return;
    const f = JSON.parse(data.toString("utf8")) as { payload?: { id?: string; nodeId?: string } };
    const id = f.payload?.id;
    if (typeof id !== "string") return;
    s.write(
      maskedText(
        `{"type":"req","id":"r${this.invokesAnswered}","method":"node.invoke.result","params":{"id":${JSON.stringify(id)},"nodeId":"${n.key.id}","ok":true,"payloadJSON":"{\\"ok\\":true}"}}`,
      ),
    );
    this.invokesAnswered++;
  }

  private connectFrame(n: FleetNode, nonce: string): Buffer {
    const token = n.deviceToken ?? this.o.token;
    const params = {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "node-host", version: "bench", platform: this.o.platform, mode: "node" },
      role: "node",
      scopes: [],
      caps: ["system"],
      commands: this.o.commands,
      auth: { token },
      device: signDevice(n.key, { clientId: "node-host", clientMode: "node", role: "node", scopes: [], signedAt: Date.now(), token, nonce }),
    };
    return maskedText(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
  }
}
