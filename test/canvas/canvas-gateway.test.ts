/** The canvas host as the gateway runs it: a supervised worker on its own port. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import pino from "pino";
import WebSocket from "ws";
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

test("canvas worker: advertised in hello-ok, idle until first used, reported in health, restarted after a kill without the gateway port noticing", async (t) => {
  const dir = tempDir(t, "clawgate-canvas-gw-");
  const log = pino({ level: "silent" });
  const options = testOptions(dir);
  const runtime = { options, canvas: { enabled: true, root: join(dir, "canvas"), port: 0, liveReload: true }, sources: { port: "flag", bind: "default" } };
  const gw = await startGateway(options, log, { modules: canvasHostModules(runtime.canvas) });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  t.after(async () => {
    await gw.stop();
  });
  const url = `ws://127.0.0.1:${gw.server.port}`;
  const { client, hello } = await connectOk(url);
  t.after(() => client.close());
  const canvasPort = options.canvasHostPort!;
  assert.equal(hello.canvasHostUrl, `http://127.0.0.1:${canvasPort}`);
  // Default: no worker thread until the canvas port is first used; the port is held meanwhile.
  const h0 = await client.request("health", { probe: true });
  assert.equal(h0.payload.workers.find((w: { name: string }) => w.name === "canvas").state, "idle");
  assert.equal(canvas.getState().generation, 0, "no worker spawned before first use");
  // Several first requests at once: all are held while the worker starts, then relayed.
  const pages = await Promise.all(Array.from({ length: 4 }, () => getText(`${hello.canvasHostUrl}/__clawdbot__/canvas/`)));
  for (const page of pages) {
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
  }
  await canvas.whenRunning().then(() => canvas.request("status", {}, { timeoutMs: 10_000 }));

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

test("canvas worker started by a live-reload WebSocket as the first connection: relayed, then served directly", async (t) => {
  const dir = tempDir(t, "clawgate-canvas-lazy-ws-");
  const options = testOptions(dir);
  const root = join(dir, "canvas");
  const gw = await startGateway(options, pino({ level: "silent" }), { modules: canvasHostModules({ enabled: true, root, port: 0, liveReload: true }) });
  t.after(async () => {
    await gw.stop();
  });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  const base = `127.0.0.1:${options.canvasHostPort!}`;
  // Accepted by the main thread's keeper before any worker exists, relayed once it listens.
  const relayed = new WebSocket(`ws://${base}/__clawdbot/ws`);
  t.after(() => relayed.terminate());
  await new Promise<void>((resolve, reject) => {
    relayed.once("open", () => resolve());
    relayed.once("error", reject);
  });
  await canvas.whenRunning().then(() => canvas.request("status", {}, { timeoutMs: 10_000 }));
  assert.equal(canvas.getState().generation, 1);
  const direct = new WebSocket(`ws://${base}/__clawdbot/ws`);
  t.after(() => direct.terminate());
  await new Promise<void>((resolve, reject) => {
    direct.once("open", () => resolve());
    direct.once("error", reject);
  });
  const message = (ws: WebSocket): Promise<string> => new Promise((resolve) => ws.once("message", (d: Buffer) => resolve(d.toString("utf8"))));
  const got = Promise.all([message(relayed), message(direct)]);
  await writeFile(join(root, "index.html"), "<html><body>changed</body></html>");
  assert.deepEqual(await got, ["reload", "reload"]);
  assert.equal((await getText(`http://${base}/__clawdbot__/canvas/`)).status, 200);
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
