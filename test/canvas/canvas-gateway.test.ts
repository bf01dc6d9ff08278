/** The canvas host as the gateway runs it: a supervised worker on its own port. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pino from "pino";
import { startGateway } from "../../src/main/gateway.js";
import { CANVAS_HOST_MODULE, canvasHostModules, type CanvasHostApi } from "../../src/main/canvas/canvas-host.js";
import { resolveRuntime } from "../../src/main/lifecycle/runtime-options.js";
import { applyConfigDefaults } from "../../src/shared/config/defaults.js";
import { testOptions } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { tempDir } from "../helpers/temp-dir.js";

async function getText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

test("canvas worker: advertised in hello-ok, reported in health, restarted after a kill without the gateway port noticing", async (t) => {
  const dir = tempDir(t, "clawgate-canvas-gw-");
  const log = pino({ level: "silent" });
  const options = testOptions(dir);
  const runtime = { options, canvas: { enabled: true, root: join(dir, "canvas"), port: 0, liveReload: true }, sources: { port: "flag", bind: "default" } };
  const gw = await startGateway(options, log, { modules: canvasHostModules(runtime.canvas) });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  // The gateway listens without waiting for the canvas worker: wait for it here.
  await canvas.whenRunning().then(() => canvas.request("status", {}, { timeoutMs: 10_000 }));
  t.after(async () => {
    await gw.stop();
  });
  const url = `ws://127.0.0.1:${gw.server.port}`;
  const { client, hello } = await connectOk(url);
  t.after(() => client.close());
  const canvasPort = options.canvasHostPort!;
  assert.equal(hello.canvasHostUrl, `http://127.0.0.1:${canvasPort}`);
  const page = await getText(`${hello.canvasHostUrl}/__clawdbot__/canvas/`);
  assert.equal(page.status, 200);
  assert.match(page.body, /<html/i);

  const h1 = await client.request("health", { probe: true });
  const w1 = h1.payload.workers.find((w: { name: string }) => w.name === "canvas");
  assert.equal(w1.state, "running");
  const gen = w1.generation as number;

  const back = new Promise<void>((resolve) => {
    const off = canvas.onStateChange((s) => {
      if (s.state === "running" && s.generation > gen) {
        off();
        resolve();
      }
    });
  });
  canvas.terminate("killed by test");
  await back;
  await canvas.request("status", {}, { timeoutMs: 10_000 });
  const again = await getText(`${hello.canvasHostUrl}/__clawdbot__/canvas/`);
  assert.equal(again.status, 200, "same port after restart");
  const h2 = await client.request("health", { probe: true });
  const w2 = h2.payload.workers.find((w: { name: string }) => w.name === "canvas");
  assert.equal(w2.restarts, 1);
  assert.equal(client.frames.filter((f) => f.event === "shutdown").length, 0, "gateway clients never noticed");
});

test("canvas host disable switches: canvasHost.enabled=false and CLAWDBOT_SKIP_CANVAS_HOST=1", async () => {
  const paths = { configPath: "/tmp/x/clawdbot.json", stateDir: "/tmp/x" };
  const env = { CLAWDBOT_GATEWAY_TOKEN: "canvas-test-token-0123456789" };
  const on = await resolveRuntime(applyConfigDefaults({ gateway: { mode: "local" } }), { port: "18000" }, env, paths);
  assert.equal(on.canvas.enabled, true);
  assert.equal(on.options.canvasHostPort, 18004, "gateway port + 4");
  const off = await resolveRuntime(applyConfigDefaults({ gateway: { mode: "local" }, canvasHost: { enabled: false } }), {}, env, paths);
  assert.equal(off.canvas.enabled, false);
  assert.equal(off.options.canvasHostPort, null);
  const skip = await resolveRuntime(applyConfigDefaults({ gateway: { mode: "local" } }), {}, { ...env, CLAWDBOT_SKIP_CANVAS_HOST: "1" }, paths);
  assert.equal(skip.options.canvasHostPort, null);
  assert.deepEqual(canvasHostModules(skip.canvas), [], "no canvas-host module when skipped");
});
