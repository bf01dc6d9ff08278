/**
 * A protocol-3 client connection over a raw TCP socket: hand-written HTTP upgrade,
 * `connect.challenge` → `connect` → `hello-ok`, then frames go to `onFrame`.
 *
 * The `ws` package costs more client CPU per frame than the gateway spends answering
 * it, so on a 2-core box it would measure itself. Here the hot path is: socket chunk →
 * FrameParser (views, no copies) → a byte-prefix check; writes are pre-built buffers.
 */
import { connect as netConnect, type Socket } from "node:net";
import { FrameParser, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, OP_BINARY, isOkRes, isResFrame, maskedClose, maskedFrame, type FrameHandler } from "../../test/helpers/ws-frames.js";

/** Where to connect. */
export interface WsTarget {
  host: string;
  port: number;
  path: string;
  /** Value of the Host header. */
  hostHeader: string;
}

/** Parses `ws://host:port/path` (loopback only: refuses anything else). */
export function parseWsUrl(url: string): WsTarget {
  const u = new URL(url);
  if (u.protocol !== "ws:") throw new Error(`only ws:// URLs are supported, got ${url}`);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) throw new Error(`bench targets loopback only, got ${host}`);
  return { host, port: Number(u.port || 80), path: `${u.pathname || "/"}${u.search}`, hostHeader: u.host };
}

/** The upgrade request; the key is constant (servers only hash it). */
export function upgradeRequest(t: WsTarget): Buffer {
  return Buffer.from(
    `GET ${t.path} HTTP/1.1\r\nHost: ${t.hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    "latin1",
  );
}

const CLOSE_1000 = maskedClose(1000);
const HEAD_END = Buffer.from("\r\n\r\n");

const enum Phase {
  Upgrading,
  Challenge,
  Hello,
  Ready,
  Closed,
}

/** Builds the masked `connect` request frame for a challenge nonce. */
export type ConnectFrameBuilder = (nonce: string) => Buffer;

export interface OpenOptions {
  /** Pre-built upgrade request (see `upgradeRequest`). */
  upgrade: Buffer;
  connectFrame: ConnectFrameBuilder;
  /** Whole-handshake deadline in ms. */
  timeoutMs: number;
  /** Keep the hello-ok JSON (for capturing it); default false. */
  keepHello?: boolean;
}

/** One handshaken gateway connection. */
export class GatewayConnection {
  /** Frames after hello-ok (text/binary only; pings are answered here). */
  onFrame: FrameHandler = () => {};
  /** After each socket chunk has been parsed (ready phase): flush batched writes here. */
  afterChunk: () => void = () => {};
  /** Socket closed or failed after hello-ok. */
  onClosed: (err?: Error) => void = () => {};
  /** hello-ok `res` JSON when `keepHello` was set. */
  helloJson = "";
  readonly parser: FrameParser;
  private phase = Phase.Upgrading;
  private head: Buffer | null = null;
  private closeWaiters: (() => void)[] = [];

  private constructor(
    readonly socket: Socket,
    private readonly opts: OpenOptions,
    private readonly settle: (err?: Error) => void,
  ) {
    this.parser = new FrameParser((op, fin, data, len) => this.frame(op, fin, data, len), { full: true });
  }

  /** Connects, upgrades and completes the protocol-3 handshake. */
  static open(target: WsTarget, opts: OpenOptions): Promise<GatewayConnection> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: target.host, port: target.port, noDelay: true });
      let done = false;
      const timer = setTimeout(() => settle(new Error(`handshake timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      const settle = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          resolve(conn);
        }
      };
      const conn = new GatewayConnection(socket, opts, settle);
      socket.on("connect", () => socket.write(opts.upgrade));
      socket.on("data", (chunk: Buffer) => conn.data(chunk));
      socket.on("error", (err) => conn.gone(err));
      socket.on("close", () => conn.gone());
    });
  }

  get ready(): boolean {
    return this.phase === Phase.Ready;
  }

  /** Sends a close frame, half-closes, and resolves once the server has closed the TCP stream. */
  close(timeoutMs = 2000): Promise<void> {
    if (this.phase === Phase.Closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.write(CLOSE_1000);
      this.socket.end();
    });
  }

  /** Drops the TCP connection without a close frame. */
  destroy(): void {
    this.socket.destroy();
  }

  private data(chunk: Buffer): void {
    if (this.phase !== Phase.Upgrading) {
      this.pushFrames(chunk);
      if (this.phase === Phase.Ready) this.afterChunk();
      return;
    }
    const buf = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      this.head = buf;
      return;
    }
    this.head = null;
    const status = buf.toString("latin1", 0, buf.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101\b/.test(status)) {
      this.settle(new Error(`upgrade refused: ${status}`));
      return;
    }
    this.phase = Phase.Challenge;
    if (buf.length > end + 4) this.pushFrames(buf.subarray(end + 4));
  }

  private pushFrames(chunk: Buffer): void {
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.settle(err as Error);
      this.socket.destroy();
    }
  }

  private frame(op: number, fin: boolean, data: Buffer, len: number): void {
    if (op === OP_PING) {
      this.socket.write(maskedFrame(OP_PONG, Buffer.from(data)));
      return;
    }
    if (op === OP_CLOSE) {
      if (this.phase !== Phase.Ready) {
        const code = data.length >= 2 ? data.readUInt16BE(0) : 1005;
        this.settle(new Error(`server closed during handshake: ${code} ${data.subarray(2).toString("utf8")}`));
      }
      return;
    }
    if (op !== OP_TEXT && op !== OP_BINARY) {
      if (this.phase === Phase.Ready) this.onFrame(op, fin, data, len);
      return;
    }
    switch (this.phase) {
      case Phase.Ready:
        this.onFrame(op, fin, data, len);
        return;
      case Phase.Challenge: {
        let nonce: unknown;
        try {
          const f = JSON.parse(data.toString("utf8")) as { type?: string; event?: string; payload?: { nonce?: unknown } };
          if (f.type !== "event" || f.event !== "connect.challenge") return;
          nonce = f.payload?.nonce;
        } catch {
          return;
        }
        if (typeof nonce !== "string") {
          this.settle(new Error("connect.challenge without a nonce"));
          return;
        }
        this.phase = Phase.Hello;
        this.socket.write(this.opts.connectFrame(nonce));
        return;
      }
      case Phase.Hello: {
        if (!isResFrame(data)) return;
        if (!isOkRes(data)) {
          this.settle(new Error(`connect refused: ${data.toString("utf8").slice(0, 300)}`));
          return;
        }
        if (this.opts.keepHello) this.helloJson = data.toString("utf8");
        this.phase = Phase.Ready;
        this.parser.full = false;
        this.settle();
        return;
      }
      default:
        return;
    }
  }

  private gone(err?: Error): void {
    const wasReady = this.phase === Phase.Ready;
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    if (!wasReady) this.settle(err ?? new Error("socket closed during handshake"));
    else this.onClosed(err);
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
