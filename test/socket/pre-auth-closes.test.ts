/**
 * PreAuthCloses: server-side closes of unauthenticated sockets run in short slices that yield
 * to the event loop between them, skip sockets that closed meanwhile, and never re-open the
 * handshake of a queued socket.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { Connection, Phase } from "../../src/main/socket/connection.js";
import { PreAuthCloses, type PreAuthClose } from "../../src/main/socket/pre-auth-closes.js";

const EVICT: PreAuthClose = { code: 1013, reason: "evicted" };
const info = { remoteAddress: "127.0.0.1", clientIp: "127.0.0.1", isLocal: true, localDirect: true, host: "", forwardedProto: "" };

function conns(n: number): Connection[] {
  return Array.from({ length: n }, (_, i) => new Connection(`c${i}`, `n${i}`, info));
}

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test("closes run in slices: the loop gets a turn between them, and every socket is closed once, in order", async () => {
  const closed: { id: string; code: number; reason: string }[] = [];
  let allClosed: () => void = () => undefined;
  const done = new Promise<void>((r) => (allClosed = r));
  const list = conns(40);
  const q = new PreAuthCloses((conn, code, reason) => {
    spin(0.2);
    closed.push({ id: conn.connId, code, reason });
    if (closed.length === list.length) allClosed();
  }, 0.5);
  for (const c of list) q.add(c, EVICT);
  assert.equal(q.pending, 40);
  assert.equal(closed.length, 0, "nothing is closed inside the caller's callback");
  // Queued after the first slice's immediate: runs once that slice yields.
  const seenBetween = await new Promise<number>((r) => setImmediate(() => r(closed.length)));
  assert.ok(seenBetween > 0 && seenBetween < 40, `the first slice yielded after ${seenBetween} closes`);
  await done;
  assert.deepEqual(
    closed.map((c) => c.id),
    list.map((c) => c.connId),
  );
  assert.ok(closed.every((c) => c.code === 1013 && c.reason === "evicted"));
  assert.equal(q.pending, 0);
});

test("a backlog drains in a few turns even when each slice's time is spent on its first close", async () => {
  let closed = 0;
  const q = new PreAuthCloses(() => {
    spin(0.05);
    closed++;
  }, 0.01);
  for (const c of conns(1000)) q.add(c, EVICT);
  let turns = 0;
  while (closed < 1000) {
    turns++;
    await new Promise((r) => setImmediate(r));
  }
  // A quarter of the backlog per slice: ~25 turns for 1,000 (a time slice alone: ~1,000).
  assert.ok(turns <= 40, `drained in ${turns} turns`);
  assert.equal(q.pending, 0);
});

test("a queued socket is Closing (no handshake), one that closed meanwhile is skipped, non-pending ones are not queued", async () => {
  const closed: string[] = [];
  const q = new PreAuthCloses((conn) => closed.push(conn.connId));
  const [a, b, c] = conns(3) as [Connection, Connection, Connection];
  c.phase = Phase.Ready;
  q.add(a, EVICT);
  q.add(b, EVICT);
  q.add(c, EVICT);
  assert.equal(a.phase, Phase.Closing);
  assert.equal(c.phase, Phase.Ready, "an authenticated socket is never closed as pre-auth");
  // The client went away before its turn (the uWS close handler marks it Closed).
  b.phase = Phase.Closed;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closed, ["c0"]);
});

test("stop drops what is queued", async () => {
  const closed: string[] = [];
  const q = new PreAuthCloses((conn) => closed.push(conn.connId));
  for (const c of conns(5)) q.add(c, EVICT);
  q.stop();
  q.add(new Connection("late", "n", info), EVICT);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closed, []);
});
