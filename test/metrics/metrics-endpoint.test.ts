/** GET /metrics: auth, valid exposition, and counters that move when their events happen. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";
import { connectClient, connectOk, TestClient } from "../helpers/client.js";
import { parseExposition, type Exposition } from "./exposition.js";

const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

async function scrape(port: number): Promise<Exposition> {
  const r = await httpRequest(port, "GET", "/metrics", { headers: AUTH });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(r.body);
}

function n(e: Exposition, name: string, labels?: Record<string, string>): number {
  return e.get(name, labels) ?? 0;
}

test("/metrics: bearer auth unless public, valid exposition, every family declared", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const none = await httpRequest(gw.port, "GET", "/metrics");
  assert.equal(none.status, 401);
  assert.equal(none.body, '{"error":{"message":"Unauthorized","type":"unauthorized"}}');
  const wrong = await httpRequest(gw.port, "GET", "/metrics", { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  assert.equal((await httpRequest(gw.port, "POST", "/metrics", { headers: AUTH, body: "" })).status, 405);

  const e = await scrape(gw.port);
  for (const family of [
    "clawgate_sockets",
    "clawgate_handshakes_total",
    "clawgate_handshake_failures_total",
    "clawgate_frames_in_total",
    "clawgate_bytes_in_total",
    "clawgate_frames_out_total",
    "clawgate_bytes_out_total",
    "clawgate_slow_consumer_closes_total",
    "clawgate_too_big_closes_total",
    "clawgate_broadcast_fanout_seconds",
    "clawgate_rpc_duration_seconds",
    "clawgate_worker_restarts_total",
    "clawgate_worker_state",
    "clawgate_ring_overflow_depth",
    "clawgate_ring_overflows_total",
    "clawgate_channel_state",
    "clawgate_agent_runs_total",
    "clawgate_event_loop_delay_seconds",
  ]) {
    assert.ok(e.types.has(family), `family ${family} declared`);
  }
  assert.equal(e.types.get("clawgate_rpc_duration_seconds"), "histogram");
  assert.equal(e.types.get("clawgate_handshakes_total"), "counter");
});

test("/metrics public and disabled", async (t) => {
  const pub = await startTestGateway({ metrics: { enabled: true, public: true } });
  t.after(() => pub.close());
  const open = await httpRequest(pub.port, "GET", "/metrics");
  assert.equal(open.status, 200);
  parseExposition(open.body);
  pub.server.ctx.options.metrics = { enabled: false, public: true };
  assert.equal((await httpRequest(pub.port, "GET", "/metrics")).status, 404, "disabled by a reload: nothing claims the path");
});

test("/metrics counters move: handshake, failed handshake, RPC, 1009 close, frames, sockets by role", async (t) => {
  const gw = await startTestGateway({ policy: { maxPayload: 4096, maxBufferedBytes: 1_572_864, tickIntervalMs: 30_000 } });
  t.after(() => gw.close());
  const before = await scrape(gw.port);

  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  const health = await client.request("health");
  assert.equal(health.ok, true);

  // A wrong token: the server answers and closes 1008 before hello-ok.
  const bad = await connectClient(gw.url, { token: "wrong-token-0123456789abcdef" });
  assert.equal(bad.res.ok, false);
  assert.equal((await bad.client.closed).code, 1008);

  // A frame over maxPayload after the handshake: 1009.
  const { client: big } = await connectOk(gw.url);
  big.sendRaw("x".repeat(5000));
  assert.equal((await big.closed).code, 1009);

  const after = await scrape(gw.port);
  assert.equal(n(after, "clawgate_handshakes_total") - n(before, "clawgate_handshakes_total"), 2);
  assert.equal(n(after, "clawgate_handshake_failures_total", { reason: "policy", code: "1008" }) - n(before, "clawgate_handshake_failures_total", { reason: "policy", code: "1008" }), 1);
  assert.equal(n(after, "clawgate_too_big_closes_total") - n(before, "clawgate_too_big_closes_total"), 1);
  assert.equal(n(after, "clawgate_rpc_duration_seconds_count", { method: "health" }) - n(before, "clawgate_rpc_duration_seconds_count", { method: "health" }), 1);
  assert.ok(n(after, "clawgate_rpc_duration_seconds_sum", { method: "health" }) > 0);
  // connect ×3 + health + the 5000-byte frame, at least.
  assert.ok(n(after, "clawgate_frames_in_total") - n(before, "clawgate_frames_in_total") >= 5);
  assert.ok(n(after, "clawgate_bytes_in_total") - n(before, "clawgate_bytes_in_total") >= 5000);
  assert.ok(n(after, "clawgate_frames_out_total", { kind: "unicast" }) - n(before, "clawgate_frames_out_total", { kind: "unicast" }) >= 7, "challenge ×3, hello-ok ×2, health res, connect error");
  assert.equal(n(after, "clawgate_sockets", { role: "operator" }), 1, "the client still connected");
  assert.ok(n(after, "clawgate_sockets_opened_total") - n(before, "clawgate_sockets_opened_total") >= 3);

  // A broadcast (presence on disconnect) is timed.
  const fanBefore = n(after, "clawgate_broadcast_fanout_seconds_count");
  const watcher = await TestClient.open(gw.url);
  t.after(() => watcher.close());
  client.close();
  await client.closed;
  await new Promise<void>((resolve) => {
    const poll = async (): Promise<void> => {
      const e = await scrape(gw.port);
      if (n(e, "clawgate_broadcast_fanout_seconds_count") > fanBefore && n(e, "clawgate_sockets", { role: "operator" }) === 0) resolve();
      else setTimeout(() => void poll(), 20);
    };
    void poll();
  });
});
