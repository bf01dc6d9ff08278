/**
 * Minimal RFC 6455 client-side framing, the one copy shared by the raw-socket test clients
 * (test/helpers/raw-ws.ts, node-fleet.ts) and the benches' load generators: masked client
 * frames built once, and a streaming parser for (unmasked) server frames that never
 * concatenates chunks. Node built-ins only, so tests depend on nothing bench-specific.
 *
 * Server frame header (no mask from a server):
 *
 *   byte 0        byte 1          then                     then
 *   FIN|RSV|op    0|len7          len7=126: u16 length      payload
 *                                 len7=127: u64 length
 *
 * The parser has two modes. In `full` mode (handshakes) every payload is delivered whole.
 * In prefix mode (the RPC hot path) a frame wholly inside one chunk is still delivered as a
 * zero-copy view, but a frame split across chunks only keeps its first `prefixBytes` bytes —
 * enough to recognise `{"type":"res",…"ok":true` without buffering multi-KB payloads.
 * Control frames (close/ping/pong) are always delivered whole.
 */
import { randomBytes } from "node:crypto";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One complete client frame: FIN set, masked with a random key. */
export function maskedFrame(opcode: number, payload: Buffer, mask: Buffer = randomBytes(4)): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  mask.copy(out, head, 0, 4);
  for (let i = 0; i < len; i++) out[head + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}

/** A masked text frame of a string. */
export function maskedText(text: string): Buffer {
  return maskedFrame(OP_TEXT, Buffer.from(text, "utf8"));
}

/** A masked close frame with a status code. */
export function maskedClose(code = 1000): Buffer {
  const p = Buffer.allocUnsafe(2);
  p.writeUInt16BE(code, 0);
  return maskedFrame(OP_CLOSE, p);
}

/**
 * Called once per complete frame. `data` is the whole payload (full mode, control frames,
 * or a frame that arrived in one chunk) or its first bytes; `length` is the real payload
 * length. `data` may be a view into a reused buffer: consume it synchronously.
 */
export type FrameHandler = (opcode: number, fin: boolean, data: Buffer, length: number) => void;

const IN_HEADER = -1;

/** Streaming parser of server→client frames. */
export class FrameParser {
  /** Deliver whole payloads even when split across chunks. */
  full: boolean;
  private readonly header = Buffer.alloc(14);
  private headerHave = 0;
  private remaining = IN_HEADER;
  private opcode = 0;
  private fin = false;
  private length = 0;
  private acc: Buffer;
  private accHave = 0;
  private keep = 0;
  private readonly prefixBuf: Buffer;

  constructor(
    private readonly onFrame: FrameHandler,
    opts: { full?: boolean; prefixBytes?: number } = {},
  ) {
    this.full = opts.full ?? true;
    this.prefixBuf = Buffer.allocUnsafe(opts.prefixBytes ?? 96);
    this.acc = this.prefixBuf;
  }

  /** Feeds one chunk from the socket; throws on a protocol violation (masked server frame). */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.remaining === IN_HEADER) {
        if (this.headerHave === 0 && n - off >= 2) {
          // Fast path: the header is inside this chunk.
          const b0 = chunk[off] as number;
          const b1 = chunk[off + 1] as number;
          if (b1 & 0x80) throw new Error("masked frame from server");
          let len = b1 & 0x7f;
          const head = len === 126 ? 4 : len === 127 ? 10 : 2;
          if (n - off >= head) {
            if (len === 126) len = chunk.readUInt16BE(off + 2);
            else if (len === 127) len = Number(chunk.readBigUInt64BE(off + 2));
            off += head;
            const op = b0 & 0x0f;
            const fin = (b0 & 0x80) !== 0;
            if (n - off >= len) {
              this.onFrame(op, fin, chunk.subarray(off, off + len), len);
              off += len;
            } else {
              this.begin(op, fin, len);
            }
            continue;
          }
        }
        // Slow path: a header split across chunks, one byte at a time.
        this.header[this.headerHave++] = chunk[off++] as number;
        if (this.headerHave >= 2 && this.headerHave === this.headerLength()) this.parseSplitHeader();
        continue;
      }
      const take = Math.min(this.remaining, n - off);
      if (this.accHave < this.keep) {
        const c = Math.min(take, this.keep - this.accHave);
        chunk.copy(this.acc, this.accHave, off, off + c);
        this.accHave += c;
      }
      off += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finish();
    }
  }

  private headerLength(): number {
    const b1 = this.header[1] as number;
    if (b1 & 0x80) throw new Error("masked frame from server");
    const l = b1 & 0x7f;
    return l === 126 ? 4 : l === 127 ? 10 : 2;
  }

  private parseSplitHeader(): void {
    const b0 = this.header[0] as number;
    let len = (this.header[1] as number) & 0x7f;
    if (len === 126) len = this.header.readUInt16BE(2);
    else if (len === 127) len = Number(this.header.readBigUInt64BE(2));
    this.headerHave = 0;
    this.begin(b0 & 0x0f, (b0 & 0x80) !== 0, len);
  }

  private begin(opcode: number, fin: boolean, length: number): void {
    this.opcode = opcode;
    this.fin = fin;
    this.length = length;
    this.accHave = 0;
    this.keep = this.full || opcode >= OP_CLOSE ? length : Math.min(length, this.prefixBuf.length);
    this.acc = this.keep > this.prefixBuf.length ? Buffer.allocUnsafe(this.keep) : this.prefixBuf;
    this.remaining = length;
    if (length === 0) this.finish();
  }

  private finish(): void {
    this.remaining = IN_HEADER;
    this.onFrame(this.opcode, this.fin, this.acc.subarray(0, this.accHave), this.length);
  }
}

const RES_PREFIX = Buffer.from('{"type":"res"');
const RES_MARK = Buffer.from('"type":"res"');
const OK_TRUE = Buffer.from('"ok":true');
/** Where in a frame `"type":"res"` / `"ok":true` may sit (after `{`, an id, …). */
const HEAD_WINDOW = 160;

/** Is this (start of a) text frame a `res`? Checks the common prefix byte-wise first. */
export function isResFrame(data: Buffer): boolean {
  if (data.length >= RES_PREFIX.length) {
    let same = true;
    for (let i = 0; i < RES_PREFIX.length; i++) {
      if (data[i] !== RES_PREFIX[i]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  const i = data.indexOf(RES_MARK);
  return i >= 0 && i < HEAD_WINDOW;
}

/** Does this `res` frame carry `"ok":true` near its start? */
export function isOkRes(data: Buffer): boolean {
  const i = data.indexOf(OK_TRUE);
  return i >= 0 && i < HEAD_WINDOW;
}
