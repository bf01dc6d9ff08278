/** Failed auth from loopback is throttled by escalating delay; correct logins are not slowed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { startTestGateway } from "../helpers/gateway.js";
import { TestClient, buildConnectParams, connectClient, connectOk, type Frame } from "../helpers/client.js";
import { AuthThrottle } from "../../src/main/auth/auth-throttle.js";

test("300 wrong tokens from 127.0.0.1 at once: one is evaluated, the rest wait their turn or are refused", async (t) => {
  // A long first wait, so that no second guess is evaluated however slowly the 300 arrive.
  const gw = await startTestGateway({ preAuthMaxPerIp: 1000, authThrottle: { baseDelayMs: 60_000 } });
  t.after(() => gw.close());
  const clients = await Promise.all(Array.from({ length: 300 }, () => TestClient.open(gw.url)));
  t.after(() => clients.forEach((c) => c.terminate()));
  const nonces = await Promise.all(clients.map((c) => c.challenge()));
  const answers: Frame[] = [];
  const pending = clients.map((c, i) => c.request("connect", buildConnectParams(nonces[i], { token: `wrong-${i}` })).then((r) => answers.push(r)));
  // Everything that is not waiting its turn is answered at once.
  const queued = gw.server.ctx.authLimiter.loopback;
  await new Promise<void>((resolve) => {
    const check = (): void => (answers.length >= 300 - 16 ? resolve() : void setTimeout(check, 5));
    check();
  });
  const mismatches = answers.filter((a) => /gateway token mismatch/.test(a.error?.message ?? "")).length;
  const limited = answers.filter((a) => /too many failed/.test(a.error?.message ?? "")).length;
  assert.equal(mismatches, 1, "only one guess was evaluated at once");
  assert.equal(limited, 300 - 16 - 1);
  assert.equal(queued.failures, 1);
  // The sockets waiting their turn leave; the throttle skips them.
  for (const c of clients) c.terminate();
  void Promise.allSettled(pending);
});

test("sequential failures from loopback wait base, 2× base, …; a correct login waits only for the current turn", async (t) => {
  // Base 1 s (default 250 ms): wide enough that a loaded machine cannot blur the steps.
  const gw = await startTestGateway({ authThrottle: { baseDelayMs: 1000 } });
  t.after(() => gw.close());
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await TestClient.open(gw.url);
    const nonce = await c.challenge();
    const t0 = performance.now();
    const r = await c.request("connect", buildConnectParams(nonce, { token: "wrong" }));
    times.push(performance.now() - t0);
    assert.match(r.error!.message, /^unauthorized: gateway token mismatch/);
    c.close();
  }
  assert.ok(times[0]! < 950, `first failure answered at once (${times[0]} ms)`);
  assert.ok(times[1]! >= 950, `second failure waited (${times[1]} ms)`);
  assert.ok(times[2]! >= 1950, `third failure waited longer (${times[2]} ms)`);
  const t0 = performance.now();
  const ok = await connectOk(gw.url);
  ok.client.close();
  assert.ok(performance.now() - t0 < 4000 + 2000, "correct login waited at most the current 4 s turn");
});

test("correct logins from loopback are never delayed", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) {
    const ok = await connectOk(gw.url);
    ok.client.close();
  }
  assert.ok(performance.now() - t0 < 3000);
  assert.equal(gw.server.ctx.authLimiter.loopback.failures, 0);
  // A device-less client without a secret is refused before auth: no failure counted.
  const r = await connectClient(gw.url, { token: null });
  assert.equal(r.res.error?.message, "device identity required");
  assert.equal(gw.server.ctx.authLimiter.loopback.failures, 0);
});

test("AuthThrottle: delays escalate to the cap, the queue is bounded, a quiet run is forgotten", () => {
  let now = 1_000_000;
  const th = new AuthThrottle({ now: () => now, maxQueued: 2 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map((n) => th.delayFor(n)), [250, 500, 1000, 2000, 4000, 5000, 5000]);
  const ran: boolean[] = [];
  th.attempt((ok) => ran.push(ok));
  assert.deepEqual(ran, [true], "no failure: runs at once");
  th.recordFailure();
  th.attempt((ok) => ran.push(ok));
  th.attempt((ok) => ran.push(ok));
  th.attempt((ok) => ran.push(ok));
  assert.deepEqual(ran, [true, false], "two wait, the third is refused");
  th.close();
  assert.deepEqual(ran, [true, false, false, false]);
  th.recordFailure();
  th.recordFailure();
  assert.equal(th.failures, 2);
  now += 750 + 60_000;
  assert.equal(th.failures, 0, "forgotten after a quiet minute");
});
