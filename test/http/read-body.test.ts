/** readBody over real sockets: whole bodies, the byte limit (413 once, connection closed), client aborts mid-body. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { HttpBodyError, readBody } from "../../src/main/http/read-body.js";
import { endOnce, trackResponse } from "../../src/main/http/response-state.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { httpRequest, rawConnect, readUntilClose } from "../helpers/http-request.js";

const LIMIT = 64 * 1024;
const TOO_LARGE = '{"ok":false,"error":"payload too large"}';

interface Probe {
  gw: TestGateway;
  events: EventEmitter;
  /** Handler continuations after the body was read. */
  continued: number;
  /** How each read that failed ended. */
  failures: string[];
}

async function startBodyGateway(): Promise<Probe> {
  const events = new EventEmitter();
  const probe = { events, continued: 0, failures: [] as string[] } as Omit<Probe, "gw">;
  const gw = await startTestGateway({
    extra: {
      http: {
        register: (table) =>
          table.mount({
            stage: "plugins",
            path: { exact: "/body" },
            methods: ["POST"],
            handler: async (res, req) => {
              const state = trackResponse(res);
              events.emit("started");
              try {
                const body = await readBody(res, req, { maxBytes: LIMIT, tooLarge: { body: TOO_LARGE, contentType: "application/json" } });
                probe.continued++;
                endOnce(res, state, "200 OK", { "Content-Type": "text/plain" }, `${body.length} ${createHash("sha256").update(body).digest("hex")}`);
              } catch (err) {
                probe.failures.push(err instanceof HttpBodyError ? err.reason : `unexpected ${String(err)}`);
                events.emit("failed");
                throw err;
              }
            },
          }),
      },
    },
  });
  return Object.assign(probe, { gw });
}

function payload(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

test("bodies up to the limit arrive whole (empty, small, exactly the limit, chunked)", { timeout: 30_000 }, async (t) => {
  const p = await startBodyGateway();
  t.after(() => p.gw.close());
  const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  for (const n of [0, 1, 1000, LIMIT]) {
    const body = payload(n);
    const r = await httpRequest(p.gw.port, "POST", "/body", { body, headers: { "content-type": "application/octet-stream" } });
    assert.equal(r.status, 200, `${n} bytes`);
    assert.equal(r.body, `${n} ${sha(body)}`);
  }
  // Chunked upload in several pieces, no Content-Length.
  const sock = await rawConnect(p.gw.port);
  const body = payload(40_000);
  sock.write("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  for (let off = 0; off < body.length; off += 10_000) {
    const piece = body.subarray(off, off + 10_000);
    sock.write(`${piece.length.toString(16)}\r\n`);
    sock.write(piece);
    sock.write("\r\n");
  }
  sock.write("0\r\n\r\n");
  const raw = await readUntilClose(sock);
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.ok(raw.endsWith(`40000 ${sha(body)}`), raw.slice(-120));
  assert.equal(p.continued, 5);
  assert.deepEqual(p.failures, []);
});

test("over the limit: announced or streamed, the client gets one 413 and the connection is closed; the handler does not continue", { timeout: 30_000 }, async (t) => {
  const p = await startBodyGateway();
  t.after(() => p.gw.close());

  // Announced: Content-Length over the limit is refused before any body is read.
  const announced = await rawConnect(p.gw.port);
  announced.write(`POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`);
  announced.write(payload(1000));
  const a = await readUntilClose(announced);
  assert.match(a, /^HTTP\/1\.1 413 /);
  assert.ok(a.endsWith(TOO_LARGE), a);
  assert.equal(a.match(/HTTP\/1\.1 /g)?.length, 1, "answered once");

  // Streamed: chunked upload that passes the limit while being read.
  const streamed = await rawConnect(p.gw.port);
  const closed = readUntilClose(streamed);
  streamed.write("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const piece = payload(16 * 1024);
  for (let i = 0; i < 8 && !streamed.destroyed; i++) streamed.write(`${piece.length.toString(16)}\r\n${piece.toString("latin1")}\r\n`, "latin1");
  const s = await closed;
  assert.match(s, /^HTTP\/1\.1 413 /);
  assert.equal(s.match(/HTTP\/1\.1 /g)?.length, 1, "answered once");

  assert.equal(p.continued, 0);
  assert.deepEqual(p.failures, ["too-large", "too-large"]);
  assert.equal((await httpRequest(p.gw.port, "GET", "/healthz")).status, 200);
});

test("client sends half a body then resets: the read fails once as aborted, nothing continues, nothing is left pending", { timeout: 30_000 }, async (t) => {
  const p = await startBodyGateway();
  t.after(() => p.gw.close());
  const rounds = 20;
  for (let i = 0; i < rounds; i++) {
    const sock = await rawConnect(p.gw.port);
    sock.on("error", () => undefined);
    const started = once(p.events, "started");
    sock.write("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    sock.write(payload(20_000));
    await started;
    const failed = once(p.events, "failed");
    sock.resetAndDestroy();
    await failed;
  }
  assert.equal(p.continued, 0, "no handler continuation after an abort");
  assert.deepEqual(p.failures, Array<string>(rounds).fill("aborted"), "every read settled, once, as aborted");
  assert.equal((await httpRequest(p.gw.port, "GET", "/healthz")).status, 200, "still serving");
  const ok = await httpRequest(p.gw.port, "POST", "/body", { body: "after" });
  assert.equal(ok.status, 200);
});
