/**
 * The canvas worker as the gateway runs it (`canvas-link-worker.ts`, supervised through
 * `canvas/canvas-host.ts`): the property the node:http choice exists for — terminating the worker,
 * or letting it die from an uncaught error, ends only that thread; the gateway stays up, its
 * clients never notice, and the replacement takes the same port. Also: a startup failure is
 * logged with its cause, and the worker's log records reach the gateway logger.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import type { TestContext } from "node:test";
import pino from "pino";
import WebSocket from "ws";
import { startGateway } from "../../src/main/gateway.js";
import { CANVAS_HOST_MODULE, canvasHostModules, type CanvasHostApi } from "../../src/main/canvas/canvas-host.js";
import { connectOk } from "../helpers/client.js";
import { testOptions } from "../helpers/gateway.js";
import { tempDir } from "../helpers/temp-dir.js";

type LogLine = Record<string, unknown> & { msg?: string; worker?: string };

/** A pino logger whose records are kept in memory. */
function memoryLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { log: pino({ level: "debug" }, sink), lines };
}

async function start(t: TestContext, canvasPort = 0, startWorker: "at-start" | "on-first-connection" = "at-start") {
  const dir = tempDir(t, "clawgate-canvas-wk-");
  const { log, lines } = memoryLogger();
  const options = testOptions(dir);
  const runtime = { options, canvas: { enabled: true, root: join(dir, "fresh-root"), port: canvasPort, liveReload: true, startWorker }, sources: { port: "flag", bind: "default" } };
  const gw = await startGateway(options, log, { modules: canvasHostModules(runtime.canvas) });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  // The gateway listens without waiting for the canvas worker: wait for its first outcome
  // here (running, or broken after its restarts), then let the module log it.
  await canvas
    .whenRunning()
    .then(() => canvas.request("status", {}, { timeoutMs: 10_000 }))
    .catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  t.after(async () => {
    await gw.stop();
  });
  const { client } = await connectOk(`ws://127.0.0.1:${gw.server.port}`);
  t.after(() => client.close());
  return { canvas, gw, client, lines, canvasPort: options.canvasHostPort! };
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

/** Resolves once the supervisor runs a worker newer than `generation`. */
function nextRunning(canvas: CanvasHostApi, generation: number): Promise<void> {
  return new Promise((resolve) => {
    const off = canvas.onStateChange((s) => {
      if (s.state === "running" && s.generation > generation) {
        off();
        resolve();
      }
    });
  });
}

test("terminating the canvas worker keeps the gateway up and the port reusable", async (t) => {
  const { canvas, client, canvasPort } = await start(t);
  const url = `http://127.0.0.1:${canvasPort}/__clawdbot__/canvas/`;
  assert.equal(await status(url), 200);
  // A live-reload socket and an idle keep-alive connection are open when the thread dies.
  const ws = new WebSocket(`ws://127.0.0.1:${canvasPort}/__clawdbot/ws`);
  ws.on("error", () => {});
  await once(ws, "open");
  const wsClosed = once(ws, "close");

  const gen = canvas.getState().generation;
  const back = nextRunning(canvas, gen);
  canvas.terminate("killed by test");
  await wsClosed; // the thread's sockets were torn down with it
  await back;
  await canvas.request("status", {}, { timeoutMs: 10_000 });
  assert.equal(await status(url), 200, "same port after the restart");

  const health = await client.request("health", {});
  assert.equal(health.ok, true, "the gateway kept serving its clients");
  assert.equal(client.frames.filter((f) => f.event === "shutdown").length, 0);
  assert.equal(process.exitCode ?? 0, 0);
});

test("an uncaught error in the canvas worker ends only that thread; the replacement takes its port", async (t) => {
  const { canvas, client, canvasPort } = await start(t);
  const url = `http://127.0.0.1:${canvasPort}/__clawdbot__/canvas/`;
  assert.equal(await status(url), 200);
  const gen = canvas.getState().generation;
  const back = nextRunning(canvas, gen);
  // An event type the worker does not know fails loudly inside it: an uncaught exception.
  canvas.emit({ type: "definitely-not-an-event" } as never);
  await back;
  const st = canvas.getState();
  assert.equal(st.lastExitCode, 1, "the worker died with code 1");
  assert.equal(st.restarts, 1);
  await canvas.request("status", {}, { timeoutMs: 10_000 });
  assert.equal(await status(url), 200, "same port after the crash");
  assert.equal((await client.request("health", {})).ok, true);
  assert.equal(process.exitCode ?? 0, 0);
});

for (const startWorker of ["at-start", "on-first-connection"] as const) {
  test(`a canvas host that cannot bind logs why; the gateway runs without it (startWorker ${startWorker})`, async (t) => {
    const blocker = net.createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    t.after(() => blocker.close());
    const { port } = blocker.address() as net.AddressInfo;

    // on-first-connection: the port cannot be held either, so the worker is started at once.
    const { canvas, client, lines } = await start(t, port, startWorker);
    if (startWorker === "on-first-connection") assert.ok(lines.some((l) => /canvas port could not be held/.test(String(l.msg))));
    const failed = lines.find((l) => l.worker === "canvas" && l.msg === "canvas: host failed to start");
    assert.ok(failed, JSON.stringify(lines.map((l) => l.msg)));
    assert.equal((failed.err as { code?: string }).code, "EADDRINUSE");
    assert.ok(lines.some((l) => /canvas host did not start/.test(String(l.msg))));
    assert.equal(canvas.getState().lastExitCode, 1);
    assert.equal((await client.request("health", {})).ok, true, "the gateway started without the canvas host");
  });
}

test("the worker's log records reach the gateway logger, tagged worker=canvas", async (t) => {
  const { lines } = await start(t);
  const canvas = lines.filter((l) => l.worker === "canvas");
  assert.ok(canvas.some((l) => l.level === 30 && /starter index\.html/.test(String(l.msg))), JSON.stringify(canvas));
  assert.ok(canvas.some((l) => l.level === 30 && l.msg === "canvas: listening"));
});
