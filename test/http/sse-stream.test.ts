/** SseStream over real sockets: backpressure (queue, resume, order), overflow cut, client abort, idempotent end. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { request, type IncomingMessage } from "node:http";
import { SseStream, formatSseEvent, type SseCancelReason } from "../../src/main/http/sse-stream.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const EVENT_BYTES = 8192;
/** 16 MiB in all: well past what loopback socket buffers hold, so the server must queue. */
const FLOOD_EVENTS = 2048;

function fill(i: number): string {
  return String.fromCharCode(97 + (i % 26)).repeat(EVENT_BYTES);
}

interface Sse {
  gw: TestGateway;
  events: EventEmitter;
  streams: SseStream[];
  cancels: SseCancelReason[];
  /** Largest queue seen by the pump. */
  maxQueued: number;
}

async function startSseGateway(): Promise<Sse> {
  const events = new EventEmitter();
  const s = { events, streams: [] as SseStream[], cancels: [] as SseCancelReason[], maxQueued: 0 };
  const gw = await startTestGateway({
    extra: {
      http: {
        register: (table) =>
          table.mount({
            stage: "plugins",
            path: { exact: "/sse" },
            methods: ["GET"],
            handler: (res, req) => {
              const mode = req.getQuery("mode") ?? "flood";
              const stream = new SseStream(res, {
                maxQueuedBytes: mode === "overflow" ? 256 * 1024 : 64 * 1024 * 1024,
                headers: { "X-Test": "1" },
                onCancel: (reason) => {
                  s.cancels.push(reason);
                  events.emit("cancel", reason);
                },
              });
              s.streams.push(stream);
              let i = 0;
              let signalled = false;
              const total = mode === "flood" ? FLOOD_EVENTS : Number.POSITIVE_INFINITY;
              if (mode === "burst") {
                // Write until the socket pushes back, then go quiet: the frames uWS buffered
                // must still reach the client with nothing queued behind them to push them.
                const burst = (): void => {
                  while (!stream.backpressured) stream.send(`${i} ${fill(i)}`, "tick", String(i++));
                  events.emit("burst", i);
                };
                setImmediate(burst);
                return;
              }
              // The first batch goes out inside the request callback, the rest from later ticks.
              const pump = (): void => {
                for (let k = 0; k < 64 && i < total && !stream.closed; k++, i++) stream.send(`${i} ${fill(i)}`, "tick", String(i));
                s.maxQueued = Math.max(s.maxQueued, stream.queuedBytes);
                if (stream.queuedBytes > 0 && !signalled) {
                  signalled = true;
                  events.emit("queued");
                }
                if (stream.closed) return;
                if (i < total) {
                  // Abort mode trickles; the others push as fast as the loop turns.
                  if (mode === "abort") setTimeout(pump, 5);
                  else setImmediate(pump);
                  return;
                }
                stream.end();
                stream.end();
                events.emit("sent");
              };
              pump();
            },
          }),
      },
    },
  });
  return Object.assign(s, { gw });
}

function get(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, resolve);
    req.on("error", reject);
    req.end();
  });
}

function parseEvents(text: string): { event?: string; id?: string; data: string }[] {
  const out: { event?: string; id?: string; data: string }[] = [];
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    const e: { event?: string; id?: string; data: string } = { data: "" };
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) e.event = line.slice(7);
      else if (line.startsWith("id: ")) e.id = line.slice(4);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
      else throw new Error(`unexpected SSE line ${JSON.stringify(line.slice(0, 60))}`);
    }
    e.data = data.join("\n");
    out.push(e);
  }
  return out;
}

test("formatting: one data line per line, event and id lines, no line breaks in fields", () => {
  assert.equal(formatSseEvent("a\nb\r\nc", "x", "7"), "event: x\nid: 7\ndata: a\ndata: b\ndata: c\n\n");
  assert.equal(formatSseEvent(""), "data: \n\n");
  assert.throws(() => formatSseEvent("a", "bad\nevent"), /line break/);
});

test("a client that does not read: the server queues, resumes when the client reads, every event arrives in order and whole", { timeout: 60_000 }, async (t) => {
  const s = await startSseGateway();
  t.after(() => s.gw.close());
  const queued = once(s.events, "queued");
  const sentEarly = once(s.events, "sent").then(() => "sent");
  const res = await get(s.gw.port, "/sse?mode=flood");
  res.pause();
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
  assert.equal(res.headers["cache-control"], "no-cache");
  assert.equal(res.headers["x-test"], "1");
  const first = await Promise.race([queued.then(() => "queued"), sentEarly]);
  assert.equal(first, "queued", "the server never saw backpressure: the test would prove nothing");
  assert.ok(s.maxQueued > 0);

  res.setEncoding("utf8");
  let text = "";
  res.on("data", (d: string) => {
    text += d;
  });
  res.resume();
  await once(res, "end");
  const got = parseEvents(text);
  assert.equal(got.length, FLOOD_EVENTS);
  for (let i = 0; i < got.length; i++) {
    const e = got[i]!;
    if (e.id !== String(i) || e.event !== "tick" || e.data !== `${i} ${fill(i)}`) assert.fail(`event ${i} out of order or damaged (id ${e.id})`);
  }
  assert.deepEqual(s.cancels, [], "a normal end is not a cancel");
  assert.equal(s.streams[0]!.queuedBytes, 0);
  assert.equal(s.streams[0]!.signal.aborted, false);
});

test("writes that stop right after backpressure still drain when the client reads (no frame stuck in uWS's buffer)", { timeout: 30_000 }, async (t) => {
  const s = await startSseGateway();
  t.after(() => s.gw.close());
  const burst = once(s.events, "burst");
  const res = await get(s.gw.port, "/sse?mode=burst");
  res.pause();
  const [sent] = (await burst) as [number];
  assert.equal(s.streams[0]!.queuedBytes, 0, "nothing queued: only uWS holds the tail");
  res.setEncoding("utf8");
  let text = "";
  const all = new Promise<void>((resolve) => {
    res.on("data", (d: string) => {
      text += d;
      if (text.endsWith(`data: ${sent - 1} ${fill(sent - 1)}\n\n`)) resolve();
    });
  });
  res.resume();
  await all;
  assert.equal(parseEvents(text).length, sent);
  s.streams[0]!.end();
  await once(res, "end");
  assert.deepEqual(s.cancels, []);
});

test("a client that never reads is cut once the queue passes its limit; the cancel fires once with 'overflow'", { timeout: 60_000 }, async (t) => {
  const s = await startSseGateway();
  t.after(() => s.gw.close());
  const cancelled = once(s.events, "cancel");
  const res = await get(s.gw.port, "/sse?mode=overflow");
  res.pause();
  const closed = new Promise<void>((resolve) => res.socket.once("close", () => resolve()));
  res.on("error", () => undefined);
  assert.deepEqual(await cancelled, ["overflow"]);
  // The client sees the cut once it reads again (a paused socket is not polled).
  res.resume();
  await closed;
  const stream = s.streams[0]!;
  assert.equal(stream.signal.aborted, true);
  assert.equal(stream.closed, true);
  assert.equal(stream.queuedBytes, 0, "the queue is dropped");
  assert.ok(s.maxQueued <= 256 * 1024 + EVENT_BYTES + 64, `queue stayed bounded (max ${s.maxQueued})`);
  assert.equal(stream.send("late"), false);
  stream.end();
  assert.deepEqual(s.cancels, ["overflow"]);
  assert.equal((await get(s.gw.port, "/healthz")).statusCode, 200);
});

test("client abort: the cancel fires with 'aborted', the signal aborts, later sends and end() are no-ops", { timeout: 30_000 }, async (t) => {
  const s = await startSseGateway();
  t.after(() => s.gw.close());
  const cancelled = once(s.events, "cancel");
  const res = await get(s.gw.port, "/sse?mode=abort");
  await once(res, "data");
  res.destroy();
  assert.deepEqual(await cancelled, ["aborted"]);
  const stream = s.streams[0]!;
  assert.equal(stream.signal.aborted, true);
  assert.equal(stream.send("after abort"), false);
  stream.end();
  stream.end();
  assert.deepEqual(s.cancels, ["aborted"]);
  assert.equal((await get(s.gw.port, "/healthz")).statusCode, 200);
});
