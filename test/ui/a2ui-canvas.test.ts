/** The canvas host's `/__clawdbot__/a2ui/` serves the same @a2ui/lit page as the gateway port (with its live-reload bridge). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CANVAS_HOST_MODULE, canvasHostModule, type CanvasHostApi } from "../../src/main/canvas/canvas-host.js";
import { connectOk } from "../helpers/client.js";
import { startTestGateway } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";
import { uiBundle } from "./helpers/ui-bundle.js";

test("canvas host A2UI page is the built @a2ui/lit renderer", async (t) => {
  const ui = await uiBundle();
  const root = await mkdtemp(join(tmpdir(), "clawgate-a2ui-canvas-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const gw = await startTestGateway({ extra: { modules: [canvasHostModule({ enabled: true, root, port: 0, liveReload: true, a2uiRoot: ui.a2uiDir, startWorker: "at-start" })] } });
  t.after(() => gw.close());
  // The gateway listens without waiting for the canvas worker: wait for it here.
  const canvas = gw.instance.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  await canvas.whenRunning().then(() => canvas.request("status", {}, { timeoutMs: 20_000 }));
  const { client, hello } = await connectOk(gw.url);
  t.after(() => client.close());
  const port = Number(new URL(String(hello.canvasHostUrl)).port);
  const bundle = await httpRequest(port, "GET", "/__clawdbot__/a2ui/a2ui.bundle.js");
  assert.equal(bundle.status, 200);
  assert.ok(bundle.body.includes("a2ui-surface") && bundle.body.includes("clawdbotA2UI"));
  const index = await httpRequest(port, "GET", "/__clawdbot__/a2ui/");
  assert.equal(index.status, 200);
  assert.match(index.body, /<clawdbot-a2ui-host/);
  assert.match(index.body, /clawdbotCanvasA2UIAction/, "the canvas bridge is injected");
});
