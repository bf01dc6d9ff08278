/**
 * The typed link over a pair of rings: requests, results and errors, timeouts,
 * cancellation, events, unknown types failing loudly, close, heartbeat, overflow.
 * Both ends run on this thread (each reads with waitAsync), which is enough to test
 * the protocol; the threads and crash paths are covered by supervisor.test.ts.
 */
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GatewayError } from "../../src/shared/errors.js";
import { Link } from "../../src/shared/ring/link.js";
import type { LinkHandlers, LinkSide } from "../../src/shared/ring/link-types.js";
import { createRingBuffers } from "../../src/shared/ring/ring-layout.js";
import { createRingCodec } from "../../src/shared/ring/ring-codec.js";
import { RingProducer } from "../../src/shared/ring/ring-producer.js";
import { bumpHeartbeat, createWorkerLinkData, readHeartbeat } from "../../src/shared/ring/worker-link.js";

interface ServerSide {
  requests: {
    add(p: { a: number; b: number }): number;
    fail(p: { coded: boolean }): void;
    hang(p: { id: string }): never;
    blob(p: { bytes: Uint8Array }): { length: number };
  };
  events: { type: "note"; text: string } | { type: "bump"; by: number };
}
interface ClientSide {
  requests: { whoami(p: Record<string, never>): string };
  events: { type: "aborted"; id: string; reason: string };
}

interface Pair {
  client: Link<ClientSide, ServerSide>;
  server: Link<ServerSide, ClientSide>;
  clientErrors: GatewayError[];
  serverErrors: GatewayError[];
  notes: string[];
  aborted: Array<{ id: string; reason: string }>;
  nextAbort: () => Promise<{ id: string; reason: string }>;
}

function makePair(t: TestContext, ringBytes = 64 * 1024): Pair {
  const ab = createRingBuffers(ringBytes);
  const ba = createRingBuffers(ringBytes);
  const clientErrors: GatewayError[] = [];
  const serverErrors: GatewayError[] = [];
  const notes: string[] = [];
  const aborted: Array<{ id: string; reason: string }> = [];
  let abortWaiter: ((a: { id: string; reason: string }) => void) | null = null;
  let server: Link<ServerSide, ClientSide> | null = null;
  const serverHandlers: LinkHandlers<ServerSide> = {
    requests: {
      add: ({ a, b }) => a + b,
      fail: ({ coded }) => {
        if (coded) throw new GatewayError("GW_ERR_STORE_WRITE_FAILED", "disk full");
        throw new TypeError("boom");
      },
      hang: ({ id }, ctx) =>
        new Promise<never>((_, reject) => {
          ctx.signal.addEventListener("abort", () => {
            server?.emit({ type: "aborted", id, reason: String((ctx.signal.reason as Error).message) });
            reject(ctx.signal.reason);
          });
        }),
      blob: ({ bytes }) => ({ length: bytes.length }),
    },
    events: {
      note: (e) => notes.push(e.text),
      bump: () => {},
    },
  };
  const clientHandlers: LinkHandlers<ClientSide> = {
    requests: { whoami: () => "client" },
    events: {
      aborted: (e) => {
        aborted.push(e);
        abortWaiter?.(e);
      },
    },
  };
  const client = new Link<ClientSide, ServerSide>({ name: "client", inbound: ba, outbound: ab, handlers: clientHandlers, onError: (e) => clientErrors.push(e), writeMode: "overflow" });
  server = new Link<ServerSide, ClientSide>({ name: "server", inbound: ab, outbound: ba, handlers: serverHandlers, onError: (e) => serverErrors.push(e), writeMode: "overflow" });
  void client.start();
  void server.start();
  t.after(() => {
    client.close();
    server?.close();
  });
  return {
    client,
    server,
    clientErrors,
    serverErrors,
    notes,
    aborted,
    nextAbort: () => new Promise((resolve) => (abortWaiter = resolve)),
  };
}

function coded(code: string): (err: unknown) => boolean {
  return (err) => err instanceof GatewayError && err.code === code;
}

test("requests resolve with typed results in both directions; errors keep their codes", async (t) => {
  const { client, server } = makePair(t);
  assert.equal(await client.request("add", { a: 2, b: 40 }), 42);
  assert.equal(await server.request("whoami", {}), "client");
  await assert.rejects(client.request("fail", { coded: true }), (err: unknown) => {
    assert.ok(coded("GW_ERR_STORE_WRITE_FAILED")(err));
    assert.equal((err as GatewayError).retryable, true);
    return true;
  });
  await assert.rejects(client.request("fail", { coded: false }), (err: unknown) => {
    assert.ok(coded("GW_ERR_PROTO_HANDLER_FAILED")(err));
    assert.match((err as Error).message, /TypeError: boom/);
    return true;
  });
  // Many concurrent requests through a small ring: overflow keeps them all, in order.
  const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.request("add", { a: i, b: 1 })));
  assert.deepEqual(results, Array.from({ length: 2000 }, (_, i) => i + 1));
  const bytes = new Uint8Array(10_000).fill(3);
  assert.deepEqual(await client.request("blob", { bytes }), { length: 10_000 });
  assert.equal(client.inFlight, 0);
});

test("timeout fails with GW_ERR_WORKER_TIMEOUT and cancels the handler on the other side", async (t) => {
  const { client, nextAbort } = makePair(t);
  const aborted = nextAbort();
  await assert.rejects(client.request("hang", { id: "t1" }, { timeoutMs: 50 }), (err: unknown) => {
    assert.ok(coded("GW_ERR_WORKER_TIMEOUT")(err));
    assert.equal((err as GatewayError).protocolCode, "UNAVAILABLE");
    return true;
  });
  const seen = await aborted;
  assert.equal(seen.id, "t1");
  assert.equal(client.inFlight, 0);
});

test("an aborted signal fails with GW_ERR_WORKER_CANCELLED and aborts the remote handler", async (t) => {
  const { client, nextAbort } = makePair(t);
  const ac = new AbortController();
  const pending = client.request("hang", { id: "c1" }, { signal: ac.signal });
  const aborted = nextAbort();
  ac.abort();
  await assert.rejects(pending, coded("GW_ERR_WORKER_CANCELLED"));
  assert.equal((await aborted).id, "c1");
  await assert.rejects(client.request("add", { a: 1, b: 1 }, { signal: ac.signal }), coded("GW_ERR_WORKER_CANCELLED"));
});

test("events reach their handler; unknown event, request and frame types fail loudly", async (t) => {
  const { client, server, serverErrors, notes } = makePair(t);
  client.emit({ type: "note", text: "hello" });
  client.emit({ type: "bump", by: 1 });
  assert.equal(await client.request("add", { a: 0, b: 0 }), 0); // ordered after the events
  assert.deepEqual(notes, ["hello"]);
  // A peer speaking another protocol version: bypass the types on purpose.
  const loose = client as unknown as Link<ClientSide, LinkSide & { requests: { nope(p: object): void }; events: { type: "mystery" } }>;
  loose.emit({ type: "mystery" });
  await assert.rejects(loose.request("nope", {}), coded("GW_ERR_PROTO_UNKNOWN_METHOD"));
  assert.ok(serverErrors.some((e) => e.code === "GW_ERR_PROTO_INVALID_FRAME" && /mystery/.test(e.message)));
  assert.ok(serverErrors.some((e) => e.code === "GW_ERR_PROTO_UNKNOWN_METHOD" && /nope/.test(e.message)));
});

test("a record that is not a link frame fails loudly with GW_ERR_PROTO_INVALID_FRAME", async (t) => {
  const inbound = createRingBuffers(4096);
  const outbound = createRingBuffers(4096);
  const failed = new Promise<GatewayError>((resolve) => {
    const link = new Link<ServerSide, ClientSide>({
      name: "strict",
      inbound,
      outbound,
      handlers: { requests: { add: () => 0, fail: () => {}, hang: () => new Promise<never>(() => {}), blob: () => ({ length: 0 }) }, events: { note: () => {}, bump: () => {} } },
      onError: resolve,
    });
    void link.start();
    t.after(() => link.close());
  });
  const raw = new RingProducer(inbound); // the only writer of this ring
  assert.ok(raw.tryWrite(createRingCodec().encode({ type: "bogus", id: 1 })));
  const err = await failed;
  assert.equal(err.code, "GW_ERR_PROTO_INVALID_FRAME");
  assert.match(err.message, /bogus/);
});

test("close fails in-flight requests with the given reason and refuses new ones", async (t) => {
  const { client } = makePair(t);
  const inFlight = client.request("hang", { id: "x" });
  const reason = new GatewayError("GW_ERR_WORKER_UNAVAILABLE", 'worker "w" exited');
  client.close(reason);
  await assert.rejects(inFlight, (err: unknown) => err === reason);
  await assert.rejects(client.request("add", { a: 1, b: 1 }), (err: unknown) => err === reason);
  assert.throws(() => client.emit({ type: "note", text: "late" }), (err: unknown) => err === reason);
});

test("heartbeat slot: bumped by the worker side, read by the supervisor", () => {
  const data = createWorkerLinkData("hb", 3, 4096, 100, { any: "thing" });
  assert.equal(readHeartbeat(data.toMain), 0);
  bumpHeartbeat(data.toMain);
  bumpHeartbeat(data.toMain);
  assert.equal(readHeartbeat(data.toMain), 2);
  assert.equal(readHeartbeat(data.toWorker), 0);
});

test("a waiting reader keeps the process alive until close(), then lets it exit", async () => {
  const child = fileURLToPath(new URL("../fixtures/ring-keepalive-child.ts", import.meta.url));
  const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", child], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.once("error", reject);
    p.once("exit", (code) => resolve({ code, stdout }));
  });
  assert.equal(out.code, 0);
  assert.match(out.stdout, /got record 42/);
});
