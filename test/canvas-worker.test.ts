/**
 * The canvas worker entry in a real worker thread: listening/stop protocol, crash reporting,
 * and the property the node:http choice exists for — terminating the worker (or letting it
 * die) leaves this process alive and the port reusable.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import WebSocket from "ws";
import type { CanvasWorkerData, CanvasWorkerEvent } from "../src/workers/canvas/worker-protocol.js";

const ENTRY = pathToFileURL(path.resolve(import.meta.dirname, "../src/workers/canvas/canvas-worker.ts")).href;
// Node 20 workers ignore `--import tsx` in execArgv: register tsx inside the worker first.
const BOOT = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY)}); });`;

interface Spawned {
  worker: Worker;
  events: CanvasWorkerEvent[];
  exited: Promise<number>;
  next<T extends CanvasWorkerEvent["type"]>(type: T): Promise<Extract<CanvasWorkerEvent, { type: T }>>;
}

function spawn(t: TestContext, data: CanvasWorkerData): Spawned {
  const worker = new Worker(BOOT, { eval: true, workerData: data });
  const events: CanvasWorkerEvent[] = [];
  worker.on("message", (m: CanvasWorkerEvent) => events.push(m));
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  t.after(() => worker.terminate());
  return {
    worker,
    events,
    exited,
    next(type) {
      return new Promise((resolve, reject) => {
        const onMessage = (m: CanvasWorkerEvent): void => {
          if (m.type !== type) return;
          worker.off("message", onMessage);
          resolve(m as Extract<CanvasWorkerEvent, { type: typeof type }>);
        };
        worker.on("message", onMessage);
        void exited.then((code) => reject(new Error(`worker exited (${code}) before '${type}': ${JSON.stringify(events)}`)));
      });
    },
  };
}

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clawgate-canvas-wk-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function getStatus(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

test("terminating the worker keeps the process alive and frees the port for a restart", async (t) => {
  const root = tempDir(t);
  const first = spawn(t, { root, host: "127.0.0.1", port: 0 });
  const { port, url } = await first.next("listening");
  assert.equal(url, `http://127.0.0.1:${port}/__clawdbot__/canvas/`);
  assert.equal(await getStatus(url), 200);
  // A live-reload socket and an idle keep-alive connection are open when the thread dies.
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__clawdbot/ws`);
  ws.on("error", () => {});
  await once(ws, "open");
  const wsClosed = once(ws, "close");

  await first.worker.terminate();
  await first.exited;
  await wsClosed; // the thread's sockets were torn down with it

  const second = spawn(t, { root, host: "127.0.0.1", port });
  const again = await second.next("listening");
  assert.equal(again.port, port);
  assert.equal(await getStatus(url), 200);

  second.worker.postMessage({ type: "stop" });
  await second.next("stopped");
  assert.equal(await second.exited, 0);
  assert.equal(process.exitCode ?? 0, 0);
});

test("a startup failure is reported as an error message and exit code 1", async (t) => {
  const blocker = net.createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  t.after(() => blocker.close());
  const { port } = blocker.address() as net.AddressInfo;

  const spawned = spawn(t, { root: tempDir(t), host: "127.0.0.1", port });
  const { error } = await spawned.next("error");
  assert.equal(error.code, "GW_ERR_WORKER_UNAVAILABLE");
  assert.match(error.message, /EADDRINUSE/);
  assert.equal((error.details as { code?: string }).code, "EADDRINUSE");
  assert.equal(await spawned.exited, 1);
});

test("an uncaught error in the worker is reported, the worker exits 1 and a new one can take its port", async (t) => {
  const root = tempDir(t);
  const crashing = spawn(t, { root, host: "127.0.0.1", port: 0 });
  const { port } = await crashing.next("listening");
  // An unknown command fails loudly: it throws inside the message handler.
  crashing.worker.postMessage({ type: "definitely-not-a-command" });
  const { error } = await crashing.next("error");
  assert.match(error.message, /unknown command/);
  assert.equal(await crashing.exited, 1);

  const replacement = spawn(t, { root, host: "127.0.0.1", port });
  assert.equal((await replacement.next("listening")).port, port);
  replacement.worker.postMessage({ type: "stop" });
  assert.equal(await replacement.exited, 0);
});

test("the worker forwards its log records to the parent", async (t) => {
  const root = path.join(tempDir(t), "fresh-root");
  const spawned = spawn(t, { root, host: "127.0.0.1", port: 0 });
  await spawned.next("listening");
  const logs = spawned.events.filter((e): e is Extract<CanvasWorkerEvent, { type: "log" }> => e.type === "log");
  assert.ok(logs.some((l) => l.level === "info" && /starter index\.html/.test(l.msg)), JSON.stringify(logs));
  assert.ok(logs.some((l) => l.level === "info" && /listening/.test(l.msg)));
  spawned.worker.postMessage({ type: "stop" });
  assert.equal(await spawned.exited, 0);
});
