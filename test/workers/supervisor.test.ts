/**
 * WorkerSupervisor with real worker threads (test/fixtures/echo-worker.ts, no uWS):
 * crash mid-request, restart with fresh rings, isolation between workers, heartbeat
 * stall, restart-loop breaker, graceful and forced stop.
 */
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { GatewayError } from "../../src/shared/errors.js";
import { WorkerSupervisor } from "../../src/main/workers/worker-supervisor.js";
import type { WorkerState, WorkerSupervisorOptions } from "../../src/main/workers/supervisor-types.js";
import { retireIncarnation } from "../../src/main/workers/worker-incarnation.js";
import type { Incarnation } from "../../src/main/workers/worker-incarnation.js";
import { Link } from "../../src/shared/ring/link.js";
import { createRingCodec } from "../../src/shared/ring/ring-codec.js";
import { CLOSED_BOTH, readRingStats } from "../../src/shared/ring/ring-layout.js";
import { RingProducer } from "../../src/shared/ring/ring-producer.js";
import { createWorkerLinkData } from "../../src/shared/ring/worker-link.js";
import type { EchoProtocol, EchoWorkerOptions } from "../fixtures/echo-protocol.js";

const ENTRY = new URL("../fixtures/echo-worker.ts", import.meta.url);

type Pong = { n: number; generation: number };

function supervise(
  t: TestContext,
  name: string,
  extra: Partial<WorkerSupervisorOptions<EchoProtocol>> & { user?: EchoWorkerOptions } = {},
): { sup: WorkerSupervisor<EchoProtocol>; pongs: Pong[] } {
  const pongs: Pong[] = [];
  const { user, ...rest } = extra;
  const sup = new WorkerSupervisor<EchoProtocol>({
    name,
    entry: ENTRY,
    ringBytes: 64 * 1024,
    workerData: user ?? {},
    handlers: {
      requests: { shout: ({ text }) => text.toUpperCase() },
      events: { pong: (e) => void pongs.push({ n: e.n, generation: e.generation }) },
    },
    restart: { initialDelayMs: 20, maxDelayMs: 200 },
    ...rest,
  });
  t.after(() => sup.stop(1000));
  return { sup, pongs };
}

/** Resolves at the first state matching `pred` (guarded by a generous deadline, not a sleep). */
function waitForState(sup: WorkerSupervisor<EchoProtocol>, pred: (s: WorkerState) => boolean, guardMs = 20_000): Promise<WorkerState> {
  return new Promise((resolve, reject) => {
    if (pred(sup.getState())) return resolve(sup.getState());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`state never matched; last: ${JSON.stringify(sup.getState())}`));
    }, guardMs);
    const off = sup.onStateChange((s) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

function isUnavailable(name: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.code, "GW_ERR_WORKER_UNAVAILABLE");
    assert.equal(err.retryable, true);
    assert.equal(err.protocolCode, "UNAVAILABLE");
    assert.match(err.message, new RegExp(`"${name}"`));
    return true;
  };
}

test("crash mid-request: caller gets UNAVAILABLE fast, worker returns with generation + 1, neighbour unaffected", async (t) => {
  const { sup: a } = supervise(t, "alpha");
  const { sup: b } = supervise(t, "beta");
  await Promise.all([a.start(), b.start()]);
  assert.deepEqual(await a.request("echo", { text: "hi" }), { text: "hi", generation: 1 });

  const inFlight = a.request("hang", {});
  const t0 = performance.now();
  const crash = a.request("crash", { how: "exit" }); // processed after "hang": hang is in flight
  const duringCrash = b.request("echo", { text: "still here" });
  await assert.rejects(inFlight, isUnavailable("alpha"));
  const elapsed = performance.now() - t0;
  await assert.rejects(crash, isUnavailable("alpha"));
  assert.ok(elapsed < 3000, `in-flight request failed only after ${elapsed.toFixed(0)} ms`);

  const back = await waitForState(a, (s) => s.state === "running" && s.generation === 2);
  assert.equal(back.restarts, 1);
  assert.equal(back.lastExitCode, 3);
  assert.match(back.lastError ?? "", /code 3/);
  assert.deepEqual(await a.request("echo", { text: "again" }), { text: "again", generation: 2 });

  assert.deepEqual(await duringCrash, { text: "still here", generation: 1 });
  const bs = b.getState();
  assert.equal(bs.state, "running");
  assert.equal(bs.generation, 1);
  assert.equal(bs.restarts, 0);
});

test("exceptions and rejections inside a worker stay there: logged, restarted", async (t) => {
  const errors: string[] = [];
  const logger = { info() {}, warn() {}, error: (o: object) => void errors.push(JSON.stringify(o)) };
  const { sup } = supervise(t, "thrower", { logger });
  await sup.start();
  await assert.rejects(sup.request("crash", { how: "throw" }), isUnavailable("thrower"));
  let s = await waitForState(sup, (st) => st.state === "running" && st.generation === 2);
  assert.match(s.lastError ?? "", /kaboom \(uncaught in worker\)/);
  await assert.rejects(sup.request("crash", { how: "reject" }), isUnavailable("thrower"));
  s = await waitForState(sup, (st) => st.state === "running" && st.generation === 3);
  assert.match(s.lastError ?? "", /kaboom \(unhandled rejection in worker\)/);
  assert.ok(errors.some((e) => /kaboom/.test(e)), "worker errors are logged");
});

test("requests and events flow both ways through the supervisor", async (t) => {
  const { sup, pongs } = supervise(t, "relay");
  await sup.start();
  assert.equal(await sup.request("relay", { text: "quiet" }), "QUIET");
  for (let n = 1; n <= 3; n++) sup.emit({ type: "ping", n });
  assert.deepEqual(await sup.request("echo", { text: "sync" }), { text: "sync", generation: 1 });
  // The worker answered "echo" after handling the pings, and its pongs precede that answer.
  assert.deepEqual(pongs, [1, 2, 3].map((n) => ({ n, generation: 1 })));
  await assert.rejects(sup.request("hang", {}, { timeoutMs: 50 }), (err: unknown) => err instanceof GatewayError && err.code === "GW_ERR_WORKER_TIMEOUT");
});

test("a stalled heartbeat gets the worker terminated and replaced", async (t) => {
  const { sup } = supervise(t, "staller", { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 });
  await sup.start();
  const t0 = performance.now();
  await assert.rejects(sup.request("block", { ms: 20_000 }), isUnavailable("staller"));
  assert.ok(performance.now() - t0 < 5000);
  const s = await waitForState(sup, (st) => st.state === "running" && st.generation === 2);
  assert.match(s.lastError ?? "", /heartbeat stalled/);
});

test("restart-loop breaker trips and shows in getState()", async (t) => {
  const { sup } = supervise(t, "doomed", { user: { crashOnStart: true }, restart: { initialDelayMs: 10, maxRestarts: 2, windowMs: 60_000 } });
  await assert.rejects(sup.start(), isUnavailable("doomed"));
  const s = sup.getState();
  assert.equal(s.state, "broken");
  assert.equal(s.restarts, 2);
  assert.equal(s.generation, 3);
  assert.match(s.lastError ?? "", /refuses to start/);
  await assert.rejects(sup.request("echo", { text: "x" }), isUnavailable("doomed"));
});

test("stop(): graceful through the link, forced after the timeout; in-flight work fails UNAVAILABLE", async (t) => {
  const { sup } = supervise(t, "polite");
  await sup.start();
  const inFlight = sup.request("hang", {});
  await sup.stop(5000);
  await assert.rejects(inFlight, isUnavailable("polite"));
  let s = sup.getState();
  assert.equal(s.state, "stopped");
  assert.equal(s.lastExitCode, 0, "the worker exited by itself after the stop frame");

  const { sup: stubborn } = supervise(t, "stubborn", { user: { ignoreStop: true } });
  await stubborn.start();
  const t0 = performance.now();
  await stubborn.stop(300);
  s = stubborn.getState();
  assert.equal(s.state, "stopped");
  assert.equal(s.lastExitCode, 1, "terminated");
  assert.ok(performance.now() - t0 >= 290);
  await assert.rejects(stubborn.request("echo", { text: "x" }), isUnavailable("stubborn"));
});

test("a worker entry that cannot be loaded ends 'broken' with the loader's error, never throwing on main", async (t) => {
  const { sup } = supervise(t, "missing", { entry: new URL("../fixtures/does-not-exist.js", import.meta.url), restart: { initialDelayMs: 5, maxRestarts: 1 } });
  await assert.rejects(sup.start(), isUnavailable("missing"));
  const s = sup.getState();
  assert.equal(s.state, "broken");
  assert.equal(s.restarts, 1);
  assert.match(s.lastError ?? "", /does-not-exist|Cannot find/);
});

test("on exit, answers the worker published but main had not read yet are delivered, the rest fail UNAVAILABLE", async () => {
  // The moment between a worker's last publish and main reading it, frozen: a main-side
  // link whose reader has not run, and a "worker" that answered one of two requests.
  const data = createWorkerLinkData("frozen", 1, 4096, 1000, undefined);
  const link = new Link<EchoProtocol["main"], EchoProtocol["worker"]>({
    name: 'worker "frozen"',
    inbound: data.toMain,
    outbound: data.toWorker,
    handlers: { requests: { shout: ({ text }) => text }, events: { pong: () => {} } },
  });
  const answered = link.request("echo", { text: "last words" });
  const unanswered = link.request("hang", {});
  const codec = createRingCodec();
  assert.ok(new RingProducer(data.toMain).tryWrite(codec.encode({ type: "res", id: 1, result: { text: "last words", generation: 1 } })));
  const reason = new GatewayError("GW_ERR_WORKER_UNAVAILABLE", 'worker "frozen" exited (code 1) before answering; retry');
  const inc = { data, link } as unknown as Incarnation<EchoProtocol>;
  const { drained } = retireIncarnation(inc, reason);
  assert.equal(drained, 1);
  assert.deepEqual(await answered, { text: "last words", generation: 1 });
  await assert.rejects(unanswered, (err: unknown) => err === reason);
  assert.equal(readRingStats(data.toWorker).closed, CLOSED_BOTH);
  assert.equal(readRingStats(data.toMain).closed, CLOSED_BOTH);
});
