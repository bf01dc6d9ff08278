/**
 * A deliberately tiny server-side RFC 6455 WebSocket: enough for the live-reload socket,
 * which only ever *sends* short text frames (`reload`).
 *
 * Why not uWebSockets.js (used by the main thread) or `ws`? A worker thread that holds uWS
 * handles aborts the whole process ("uv_loop_close() while having open handles") when it is
 * terminated or dies from an uncaught exception, so a crashing canvas worker would take the
 * gateway down; `node:http` sockets are torn down cleanly with the worker. `ws` is only a
 * devDependency. See docs/canvas.md.
 *
 * Supported: the opening handshake (version 13, no extensions, no subprotocol), unmasked
 * server text frames, ping → pong, close handshake (echoing the peer's code), masked client
 * frames of any opcode (data is read and discarded). Anything else is a protocol error →
 * close 1002. Client frames larger than `MAX_CLIENT_FRAME` → close 1009: this socket has no
 * use for client data, so nothing big is ever buffered.
 *
 * Frame header (RFC 6455 §5.2):
 *   byte 0: FIN(1) RSV1-3(3) opcode(4)      byte 1: MASK(1) len7(7)
 *   len7 = 126 → 16-bit length follows; 127 → 64-bit length follows
 *   then a 4-byte masking key when MASK (always for client→server), then the payload.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest client frame accepted (header + payload); larger → close 1009. */
export const MAX_CLIENT_FRAME = 64 * 1024;
/** Unsent bytes above which a peer is considered stuck and dropped. */
const MAX_SEND_BUFFER = 256 * 1024;
/** How long to wait for the peer's close frame / FIN after we sent ours. */
const CLOSE_GRACE_MS = 1000;

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One accepted live-reload connection. */
export interface LiteSocket {
  /** Sends a text frame; false when the socket is closing or the peer was dropped as stuck. */
  sendText(text: string): boolean;
  /** Starts the close handshake (default 1000); the TCP socket is destroyed after a grace period. */
  close(code?: number, reason?: string): void;
  /** Registers the single close listener (called once, whatever ended the socket). */
  onClose(listener: () => void): void;
  readonly isOpen: boolean;
}

/** Computes `Sec-WebSocket-Accept` for a client key. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

function headerHasToken(value: string | undefined, token: string): boolean {
  return (value ?? "").split(",").some((t) => t.trim().toLowerCase() === token);
}

function rejectUpgrade(socket: Duplex, status: string, extra = ""): null {
  socket.on("error", () => {});
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
  return null;
}

/**
 * Completes the opening handshake on an `upgrade` event, or answers an HTTP error and
 * returns null. `head` is the first chunk after the request head (may hold frames).
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): LiteSocket | null {
  const key = req.headers["sec-websocket-key"];
  if (req.method !== "GET" || !headerHasToken(req.headers.upgrade, "websocket")) {
    return rejectUpgrade(socket, "400 Bad Request");
  }
  if (typeof key !== "string" || Buffer.from(key, "base64").length !== 16) {
    return rejectUpgrade(socket, "400 Bad Request");
  }
  if (req.headers["sec-websocket-version"] !== "13") {
    return rejectUpgrade(socket, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
  }
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
  );
  return new LiteSocketImpl(socket, head);
}

/** Encodes one unmasked server frame (FIN set). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function closePayload(code: number, reason: string): Buffer {
  const reasonBytes = Buffer.from(reason, "utf8").subarray(0, 123);
  const out = Buffer.alloc(2 + reasonBytes.length);
  out.writeUInt16BE(code, 0);
  reasonBytes.copy(out, 2);
  return out;
}

class LiteSocketImpl implements LiteSocket {
  private buffered: Buffer = Buffer.alloc(0);
  private closeSent = false;
  private ended = false;
  /** Set after a protocol error: everything the peer still sends is discarded unread. */
  private broken = false;
  private listener: (() => void) | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Duplex, head: Buffer) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.onSocketClosed());
    socket.on("end", () => socket.end());
    // Errors (ECONNRESET, EPIPE) always end in 'close'; nothing else to do with them.
    socket.on("error", () => {});
    if (head.length > 0) this.onData(head);
  }

  get isOpen(): boolean {
    return !this.closeSent && !this.ended;
  }

  sendText(text: string): boolean {
    if (!this.isOpen) return false;
    if (this.socket.writableLength > MAX_SEND_BUFFER) {
      this.socket.destroy();
      return false;
    }
    this.socket.write(encodeFrame(OP_TEXT, Buffer.from(text, "utf8")));
    return true;
  }

  close(code = 1000, reason = ""): void {
    if (this.ended || this.closeSent) return;
    this.closeSent = true;
    this.socket.write(encodeFrame(OP_CLOSE, closePayload(code, reason)));
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  onClose(listener: () => void): void {
    this.listener = listener;
  }

  private onSocketClosed(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.buffered = Buffer.alloc(0);
    this.listener?.();
  }

  private fail(code: number, reason: string): void {
    this.broken = true;
    this.buffered = Buffer.alloc(0);
    this.close(code, reason);
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.broken) return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (!this.ended && !this.broken) {
      const consumed = this.parseOne();
      if (consumed === 0) break;
      this.buffered = this.buffered.subarray(consumed);
    }
    if (!this.broken && this.buffered.length > MAX_CLIENT_FRAME) this.fail(1009, "frame too large");
  }

  /** Parses and handles one complete frame from `buffered`; returns bytes consumed (0 = need more). */
  private parseOne(): number {
    const buf = this.buffered;
    if (buf.length < 2) return 0;
    const b0 = buf[0] ?? 0;
    const b1 = buf[1] ?? 0;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (buf.length < 4) return 0;
      len = buf.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (buf.length < 10) return 0;
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(MAX_CLIENT_FRAME)) {
        this.fail(1009, "frame too large");
        return 0;
      }
      len = Number(big);
      offset = 10;
    }
    if ((b0 & 0x70) !== 0 || !masked) {
      this.fail(1002, "protocol error");
      return 0;
    }
    const isControl = (opcode & 0x08) !== 0;
    if (isControl && (!fin || len > 125)) {
      this.fail(1002, "protocol error");
      return 0;
    }
    if (offset + 4 + len > MAX_CLIENT_FRAME) {
      this.fail(1009, "frame too large");
      return 0;
    }
    if (buf.length < offset + 4 + len) return 0;
    const mask = buf.subarray(offset, offset + 4);
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i++) payload[i] = (buf[offset + 4 + i] ?? 0) ^ (mask[i & 3] ?? 0);
    this.handleFrame(opcode, payload);
    return offset + 4 + len;
  }

  private handleFrame(opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_CONT:
      case OP_TEXT:
      case OP_BINARY:
        return; // client data has no meaning on this socket
      case OP_PING:
        if (this.isOpen) this.socket.write(encodeFrame(OP_PONG, payload));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        // Echo the peer's status code (RFC 6455 §5.5.1); an empty close is answered with 1000,
        // a code that may not appear on the wire (1005, 1006, 1015, unassigned) with 1002.
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000;
        const echo = isSendableCloseCode(code) ? code : 1002;
        if (!this.closeSent) {
          this.closeSent = true;
          this.socket.write(encodeFrame(OP_CLOSE, closePayload(echo, "")));
        }
        this.socket.end();
        return;
      }
      default:
        this.fail(1002, "unknown opcode");
    }
  }
}
