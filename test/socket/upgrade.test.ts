/** Checks done in the uWS upgrade handler before the 101, and the pre-auth budget. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { TestClient, connectClient, connectOk } from "../helpers/client.js";
import { RawWs } from "../helpers/raw-ws.js";

test("a foreign Origin gets HTTP 403 before the upgrade; no Origin and the gateway's own origin pass", async (t) => {
  const gw = await startTestGateway({ controlUi: { enabled: true, basePath: "", allowInsecureAuth: false, allowedOrigins: ["https://ui.example.com"] } });
  t.after(() => gw.close());
  await assert.rejects(TestClient.open(gw.url, { origin: "http://evil.example" }), /unexpected response 403/);
  // DNS rebinding: Origin and Host agree but name a foreign domain.
  await assert.rejects(
    TestClient.open(gw.url, { origin: `http://attacker.test:${gw.port}`, headers: { Host: `attacker.test:${gw.port}` } }),
    /unexpected response 403/,
  );
  await assert.rejects(TestClient.open(gw.url, { origin: "null" }), /unexpected response 403/);
  const none = await connectOk(gw.url);
  none.client.close();
  const own = await connectOk(gw.url, { origin: `http://127.0.0.1:${gw.port}` });
  own.client.close();
  const local = await TestClient.open(gw.url, { origin: `http://localhost:${gw.port}`, headers: { Host: `localhost:${gw.port}` } });
  local.close();
  const listed = await TestClient.open(gw.url, { origin: "https://ui.example.com" });
  listed.close();
  assert.equal(gw.server.ctx.registry.ready, 0, "403s never reached the handshake");
});

// Changed deliberately: the newcomer used to be refused with 1013, which turned a legitimate
// reconnect storm through one address into refusals. Now the address's OLDEST unauthenticated
// socket is evicted with 1013 and the newcomer admitted (more in test/socket/pre-auth-budget.test.ts).
test("pre-auth budget: over the per-IP limit the oldest pending socket is closed with 1013; a handshake still completes", async (t) => {
  const gw = await startTestGateway({ preAuthMaxPerIp: 2 });
  t.after(() => gw.close());
  const a = await RawWs.connect(gw.port);
  const b = await RawWs.connect(gw.port);
  const c = await RawWs.connect(gw.port);
  await a.until(() => a.closeFrame() !== undefined);
  assert.equal(a.closeFrame()?.code, 1013);
  assert.equal(c.closeFrame(), undefined);
  assert.equal(gw.server.ctx.registry.pendingFor("127.0.0.1"), 2);
  const ok = await connectOk(gw.url);
  ok.client.close();
  await b.until(() => b.closeFrame() !== undefined);
  assert.equal(b.closeFrame()?.code, 1013);
  a.socket.destroy();
  b.socket.destroy();
  c.socket.destroy();
});

// Changed deliberately: loopback used to be exempt from any auth throttling (a web page in the
// user's browser could guess at full speed). It still has no bucket (no lockout of a fleet
// behind a tunnel) but pays escalating delay per failure (test/auth/auth-throttle.test.ts).
test("failed auth from a non-loopback client is rate-limited; loopback is delayed, never locked out", async (t) => {
  const gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
  t.after(() => gw.close());
  const remote = { headers: { "X-Forwarded-For": "198.51.100.23" } };
  let limited = false;
  for (let i = 0; i < 15 && !limited; i++) {
    const { res } = await connectClient(gw.url, { token: "wrong", ...remote });
    if (/too many failed/.test(res.error?.message ?? "")) limited = true;
    else assert.match(res.error!.message, /^unauthorized: gateway token mismatch/);
  }
  assert.ok(limited, "remote failures were never limited");
  // Even the right token is refused while limited.
  const blocked = await connectClient(gw.url, { ...remote });
  assert.match(blocked.res.error!.message, /too many failed/);
  // Loopback: every failure is evaluated (in turn, after its delay), never refused outright.
  for (let i = 0; i < 3; i++) {
    const { res } = await connectClient(gw.url, { token: "wrong" });
    assert.match(res.error!.message, /^unauthorized: gateway token mismatch/);
  }
  assert.equal(gw.server.ctx.authLimiter.loopback.failures, 3);
  const ok = await connectOk(gw.url);
  ok.client.close();
});
