/**
 * Stuck readers: a client whose backlog stays over maxBufferedBytes without draining is
 * closed 1008 after a sustained period even when only droppable events flow; a client
 * on a slow link that keeps draining is never closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { WebSocket } from "uWebSockets.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { buildConnectParams } from "../helpers/client.js";
import { RawWs } from "../helpers/raw-ws.js";
import { Connection, Phase, type SocketData } from "../../src/main/socket/connection.js";
import { StuckReaderMonitor } from "../../src/main/socket/stuck-readers.js";

function fakeConn(buffered: { n: number }): Connection {
  const conn = new Connection("c", "n", { remoteAddress: "127.0.0.1", clientIp: "127.0.0.1", isLocal: true, localDirect: true, host: "", forwardedProto: "" });
  conn.ws = { getBufferedAmount: () => buffered.n } as unknown as WebSocket<SocketData>;
  conn.phase = Phase.Ready;
  return conn;
}

test("monitor: constant backlog over the limit is stuck after stuckMs; a draining or under-limit backlog is not", () => {
  let now = 0;
  const stuck: string[] = [];
  const a = { n: 500 };
  const b = { n: 500 };
  const c = { n: 500 };
  const d = { n: 500 };
  const ca = fakeConn(a);
  const cb = fakeConn(b);
  const cc = fakeConn(c);
  const cd = fakeConn(d);
  const names = new Map([[ca, "stuck"], [cb, "shrinking"], [cc, "drain-callbacks"], [cd, "dips"]]);
  const m = new StuckReaderMonitor({
    limit: () => 100,
    stuckMs: () => 1000,
    candidates: () => [ca, cb, cc],
    onStuck: (conn) => {
      stuck.push(names.get(conn)!);
      conn.phase = Phase.Draining; // as closeWhenDrained does
    },
    now: () => now,
  });
  m.noteBackpressure(cd); // not an operator: checked because its own sends hit backpressure
  for (let step = 0; step <= 10; step++) {
    now = step * 250;
    b.n -= 10; // slow link: drains a little between checks
    c.n += 5; // refilled by new frames, but uWS reports drains
    d.n = step % 3 === 0 ? 50 : 500; // oscillates around the limit
    m.onDrain(cc);
    m.check();
  }
  assert.deepEqual(stuck, ["stuck"]);
  assert.equal(m.overLimit, 3, "the others stay tracked, not closed");
});

async function readyRawClient(gw: TestGateway): Promise<{ raw: RawWs; conn: Connection }> {
  const raw = await RawWs.connect(gw.port);
  await raw.until(() => raw.texts().some((s) => s.includes("connect.challenge")));
  const nonce = JSON.parse(raw.texts()[0]!).payload.nonce as string;
  raw.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: buildConnectParams(nonce, { token: TEST_TOKEN }) }));
  await raw.until(() => raw.texts().some((s) => s.includes('"hello-ok"')));
  const conn = [...gw.server.ctx.registry.operators].at(-1);
  assert.ok(conn);
  return { raw, conn };
}

function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (cond()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error("condition not met in time"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

const LIMIT = 64 * 1024;
const STUCK_MS = 300;
const BLOB = "x".repeat(32 * 1024);

test("a client that stops reading while only droppable events flow is closed 1008 after the stuck period", async (t) => {
  const gw = await startTestGateway({ policy: { maxPayload: 524288, maxBufferedBytes: LIMIT, tickIntervalMs: 30000 }, stuckReaderMs: STUCK_MS });
  t.after(() => gw.close());
  const { raw, conn } = await readyRawClient(gw);
  t.after(() => raw.socket.destroy());
  raw.socket.pause();
  const bus = gw.server.ctx.bus;
  let sent = 0;
  while ((conn.ws?.getBufferedAmount() ?? 0) <= LIMIT && sent < 4000) {
    bus.broadcast("heartbeat", { ts: Date.now(), status: "sent", preview: BLOB, n: sent++ });
    if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.ok((conn.ws?.getBufferedAmount() ?? 0) > LIMIT, "backlog over the limit");
  const overAt = Date.now();
  assert.equal(conn.phase, Phase.Ready, "droppable events alone never close at once");
  await waitFor(() => conn.phase !== Phase.Ready, 10_000);
  assert.ok(Date.now() - overAt >= STUCK_MS - 20, `closed after ${Date.now() - overAt} ms, not before the period`);
  assert.equal(conn.phase, Phase.Draining, "closing behind its backlog");
  raw.socket.resume();
  await raw.until(() => raw.closeFrame() !== undefined, 10_000);
  assert.deepEqual(raw.closeFrame(), { code: 1008, reason: "slow consumer" });
});

test("a client on a slow link that keeps draining is never closed as stuck", async (t) => {
  // The backlog uWS reports moves only when the kernel's send queue (MiBs on loopback)
  // has room again, so the period here is longer than the stuck test's: long enough for
  // this reader to make the kernel queue room at least once per period.
  const stuckMs = 1000;
  const gw = await startTestGateway({ policy: { maxPayload: 524288, maxBufferedBytes: LIMIT, tickIntervalMs: 30000 }, stuckReaderMs: stuckMs });
  t.after(() => gw.close());
  const { raw, conn } = await readyRawClient(gw);
  t.after(() => raw.socket.destroy());
  // Slow reader: one chunk every 5 ms, slower than the gateway produces.
  raw.socket.on("data", () => {
    raw.socket.pause();
    setTimeout(() => raw.socket.resume(), 5).unref();
  });
  const bus = gw.server.ctx.bus;
  let n = 0;
  let samples = 0;
  let over = 0;
  const started = Date.now();
  while (Date.now() - started < stuckMs * 3) {
    for (let i = 0; i < 4; i++) bus.broadcast("heartbeat", { ts: Date.now(), status: "sent", preview: BLOB, n: n++ });
    samples++;
    if ((conn.ws?.getBufferedAmount() ?? 0) > LIMIT) over++;
    await new Promise((r) => setTimeout(r, 2));
  }
  // Over the limit for a good part of the run (how much depends on the machine's load).
  assert.ok(over / samples > 0.2, `the slow client was over the limit for a good part of the run (${over}/${samples})`);
  assert.equal(conn.phase, Phase.Ready, "still open: it was draining");
  const frames = raw.texts().length;
  assert.ok(frames > 10, `it kept receiving (${frames} frames)`);
});
