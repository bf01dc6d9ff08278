/**
 * A raw-TCP WebSocket client for tests that need control the `ws` package hides:
 * stop reading (to build server-side backpressure), read frames by hand, see the
 * exact close frame.
 */
import net from "node:net";
import { randomBytes } from "node:crypto";
import { FrameParser, OP_CLOSE, OP_TEXT, maskedText } from "./ws-frames.js";

export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

export class RawWs {
  private buf = Buffer.alloc(0);
  private upgraded = false;
  readonly frames: RawFrame[] = [];
  // Payloads may be views into the parser's buffer: copied before they are kept.
  private readonly parser = new FrameParser((opcode, _fin, data) => this.frames.push({ opcode, payload: Buffer.from(data) }));
  private waiters: (() => void)[] = [];
  readonly ended: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (d) => this.onData(d));
    this.ended = new Promise((r) => socket.once("close", () => r()));
  }

  static async connect(port: number, headers: Record<string, string> = {}): Promise<RawWs> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const raw = new RawWs(socket);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
    await raw.until(() => raw.upgraded);
    return raw;
  }

  send(text: string): void {
    this.socket.write(maskedText(text));
  }

  /** Resolves when `cond` holds (re-checked on every chunk). */
  until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw ws: timed out")), timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  texts(): string[] {
    return this.frames.filter((f) => f.opcode === OP_TEXT).map((f) => f.payload.toString("utf8"));
  }

  closeFrame(): { code: number; reason: string } | undefined {
    const f = this.frames.find((x) => x.opcode === OP_CLOSE);
    if (!f) return undefined;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString("utf8") };
  }

  private onData(d: Buffer): void {
    if (!this.upgraded) {
      this.buf = Buffer.concat([this.buf, d]);
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString("latin1");
      if (!head.startsWith("HTTP/1.1 101")) throw new Error(`upgrade failed: ${head.split("\r\n")[0]}`);
      this.upgraded = true;
      d = this.buf.subarray(end + 4);
      this.buf = Buffer.alloc(0);
    }
    this.parser.push(d);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
