/**
 * Slow consumers (§1.7): a client that stops reading is skipped for droppable events
 * and closed with 1008 "slow consumer" (a real close frame behind its backlog, not a
 * 1006) on the next must-deliver event, while other clients keep receiving everything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { RawWs } from "../helpers/raw-ws.js";
import { buildConnectParams } from "../helpers/client.js";
import { Phase } from "../../src/main/socket/connection.js";

test("a client that stops reading is isolated and closed 1008; others receive every event", async (t) => {
  const limit = 64 * 1024;
  const gw = await startTestGateway({ policy: { maxPayload: 524288, maxBufferedBytes: limit, tickIntervalMs: 30000 } });
  t.after(() => gw.close());
  const fast = await connectOk(gw.url);
  t.after(() => fast.client.close());

  const slow = await RawWs.connect(gw.port);
  await slow.until(() => slow.texts().some((s) => s.includes("connect.challenge")));
  const nonce = JSON.parse(slow.texts()[0]!).payload.nonce as string;
  slow.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: buildConnectParams(nonce, { token: TEST_TOKEN }) }));
  await slow.until(() => slow.texts().some((s) => s.includes('"hello-ok"')));
  slow.socket.pause();

  const bus = gw.server.ctx.bus;
  const conns = [...gw.server.ctx.registry.operators];
  const slowConn = conns.find((c) => c.connId !== fast.hello.server.connId);
  assert.ok(slowConn, `operators: ${conns.length}`);
  const blob = "x".repeat(32 * 1024);
  // Droppable events: fill kernel buffers and uWS's backlog; the slow socket must stay open.
  let sent = 0;
  while ((slowConn.ws?.getBufferedAmount() ?? 0) <= limit && sent < 2000) {
    bus.broadcast("heartbeat", { ts: Date.now(), status: "sent", preview: blob, n: sent });
    sent++;
    if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.ok((slowConn.ws?.getBufferedAmount() ?? 0) > limit, "slow socket built backpressure");
  assert.equal(slowConn.phase, Phase.Ready, "droppable events never close a slow client");

  // One must-deliver event: the slow client is closed, the fast one gets it.
  bus.broadcast("agent", { runId: "r1", seq: 1, stream: "assistant", ts: Date.now(), data: { text: "hi" } });
  assert.equal(slowConn.phase, Phase.Draining, "slow consumer is being closed before the must-deliver event");
  const ev = await fast.client.next((f) => f.event === "agent", 10_000);
  assert.equal(ev.payload.runId, "r1");
  await fast.client.next(() => fast.client.frames.filter((f) => f.event === "heartbeat").length === sent, 20_000);

  // The slow client, once it reads again, finds a proper close frame.
  slow.socket.resume();
  await slow.until(() => slow.closeFrame() !== undefined, 10_000);
  slow.socket.destroy();
  assert.deepEqual(slow.closeFrame(), { code: 1008, reason: "slow consumer" });
  assert.ok(!slow.texts().some((s) => s.includes('"event":"agent"')), "the must-deliver event was not half-delivered");
});
