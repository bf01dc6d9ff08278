/** /readyz follows the workers: 503 with the reason while the canvas worker is down, 200 once it is back. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startGateway } from "../../src/main/gateway.js";
import { CANVAS_HOST_MODULE, canvasHostModules, type CanvasHostApi } from "../../src/main/canvas/canvas-host.js";
import type { WorkerState } from "../../src/main/workers/supervisor-types.js";
import { testOptions } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";

test("/readyz: 200 with the canvas worker running, 503 naming it while it is down, 200 after its restart", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-readyz-"));
  const options = testOptions(dir);
  const gw = await startGateway(options, pino({ level: "silent" }), { modules: canvasHostModules({ enabled: true, root: join(dir, "canvas"), port: 0, liveReload: false, startWorker: "at-start" }) });
  // One hook, in order: the gateway (and its canvas worker, which writes into the dir) stops
  // before the directory is removed.
  t.after(async () => {
    await gw.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  await canvas.whenRunning();
  const port = gw.server.port;

  const ok = await httpRequest(port, "GET", "/readyz");
  assert.equal(ok.status, 200);
  assert.equal(ok.body, '{"ready":true}');

  // Catch the down state as it happens, and the way back up.
  const generation = canvas.getState().generation;
  const down = new Promise<WorkerState>((resolve) => {
    const off = canvas.onStateChange((s) => {
      if (s.state === "backoff") {
        off();
        resolve(s);
      }
    });
  });
  const back = new Promise<void>((resolve) => {
    const off = canvas.onStateChange((s) => {
      if (s.state === "running" && s.generation > generation) {
        off();
        resolve();
      }
    });
  });
  canvas.terminate("killed by test");
  await down;
  const notReady = await httpRequest(port, "GET", "/readyz");
  // The backoff (100 ms) plus the worker's start outlast a loopback request, but on a very
  // loaded host the worker may be back first: then there is nothing to assert here.
  if (canvas.getState().state !== "running") {
    assert.equal(notReady.status, 503);
    assert.equal(notReady.headers["content-type"], "application/json");
    assert.match(JSON.parse(notReady.body).reason as string, /^worker canvas is (backoff|starting)$/);
    assert.equal(JSON.parse(notReady.body).ready, false);
  }
  await back;
  assert.equal((await httpRequest(port, "GET", "/readyz")).status, 200);

  // Deterministic: a stopped worker stays down until started again.
  await canvas.stop(3000);
  const stopped = await httpRequest(port, "GET", "/readyz");
  assert.equal(stopped.status, 503);
  assert.equal(stopped.body, '{"ready":false,"reason":"worker canvas is stopped"}');
  await canvas.start();
  assert.equal((await httpRequest(port, "GET", "/readyz")).status, 200);
});
