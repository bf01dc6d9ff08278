/**
 * The Control UI and A2UI pages over HTTP on the gateway port (§7.1, §7.6, §7.7): types,
 * Cache-Control, SPA fallback, base path, reserved /ui, 405, traversal → 404, lazy read,
 * 503 without a build, probes never shadowed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { a2uiModule } from "../../src/main/a2ui/a2ui-module.js";
import { controlUiModule, normalizeBasePath } from "../../src/main/control-ui/control-ui-module.js";
import { startTestGateway, testOptions } from "../helpers/gateway.js";
import { httpRequest, rawConnect, readUntilClose } from "../helpers/http-request.js";
import { uiBundle } from "./helpers/ui-bundle.js";

async function uiGateway(t: { after(fn: () => Promise<void>): void }, basePath = "", enabled = true) {
  const ui = await uiBundle();
  const gw = await startTestGateway({
    controlUi: { ...testOptions("").controlUi, basePath, enabled },
    extra: { modules: [controlUiModule({ assetsDir: ui.controlUiDir }), a2uiModule({ assetsDir: ui.a2uiDir })] },
  });
  t.after(() => gw.close());
  return gw;
}

test("root: index with injected globals, CSP and no-cache; assets typed; SPA fallback; HEAD", async (t) => {
  const gw = await uiGateway(t);
  const index = await httpRequest(gw.port, "GET", "/");
  assert.equal(index.status, 200);
  assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(index.headers["cache-control"], "no-cache");
  assert.equal(index.headers["x-frame-options"], "DENY");
  assert.equal(index.headers["x-content-type-options"], "nosniff");
  assert.match(String(index.headers["content-security-policy"]), /frame-ancestors 'none'/);
  assert.match(String(index.headers["content-security-policy"]), /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(index.body, /<script>window\.__CLAWDBOT_CONTROL_UI_BASE_PATH__="";window\.__CLAWDBOT_ASSISTANT_NAME__="Clawdbot";window\.__CLAWDBOT_ASSISTANT_AVATAR__=null;<\/script><\/head>/);
  assert.match(index.body, /<clawdbot-control-app>/);

  const js = await httpRequest(gw.port, "GET", "/assets/control-ui.js");
  assert.equal(js.status, 200);
  assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
  assert.equal(js.headers["cache-control"], "no-cache");
  assert.ok(js.body.includes("clawdbot-control-app"));

  const spa = await httpRequest(gw.port, "GET", "/sessions/main?x=1");
  assert.equal(spa.status, 200);
  assert.equal(spa.body, index.body);

  const head = await httpRequest(gw.port, "HEAD", "/");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  assert.equal(Number(head.headers["content-length"]), Buffer.byteLength(index.body));

  assert.equal((await httpRequest(gw.port, "GET", "/assets/missing.js")).status, 404);
  assert.equal((await httpRequest(gw.port, "GET", "/ui")).status, 404);
  assert.equal((await httpRequest(gw.port, "GET", "/ui/anything")).status, 404);
  const post = await httpRequest(gw.port, "POST", "/v1/chat/completions");
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, "GET, HEAD");
  // Probes come first: a root UI never shadows them.
  assert.equal((await httpRequest(gw.port, "GET", "/healthz")).status, 200);
  const meta = await httpRequest(gw.port, "GET", "/avatar/main?meta=1");
  assert.deepEqual(JSON.parse(meta.body), { avatarUrl: null });
  assert.equal((await httpRequest(gw.port, "GET", "/avatar/main")).status, 404);
});

test("traversal forms are 404, never the SPA page", async (t) => {
  const gw = await uiGateway(t);
  const paths = [
    "/../package.json",
    "/assets/../../package.json",
    "/%2e%2e/package.json",
    "/assets/%2e%2e/%2e%2e/package.json",
    "/assets/.%2e/index.html",
    "/assets/..%2f..%2fpackage.json",
    "/assets/%252e%252e/x",
    "/assets%5c..%5cindex.html",
    "/%00",
    "/assets/control-ui.js%00.html",
    "/%c0%ae%c0%ae/x",
  ];
  for (const p of paths) {
    const r = await httpRequest(gw.port, "GET", p);
    assert.equal(r.status, 404, `${p} → ${r.status}`);
    assert.ok(!r.body.includes("<html"), `${p} served HTML`);
  }
  // A raw backslash (node's client would not send it as is).
  const sock = await rawConnect(gw.port);
  sock.write("GET /assets\\..\\index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const raw = await readUntilClose(sock);
  assert.match(raw, /^HTTP\/1\.1 404/);
});

test("base path: /admin → 302 /admin/ (query kept), served below it, root not claimed", async (t) => {
  assert.equal(normalizeBasePath("admin/"), "/admin");
  assert.equal(normalizeBasePath("/"), "");
  const gw = await uiGateway(t, "/admin");
  const redirect = await httpRequest(gw.port, "GET", "/admin?x=1");
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.location, "/admin/?x=1");
  const index = await httpRequest(gw.port, "GET", "/admin/");
  assert.equal(index.status, 200);
  assert.match(index.body, /__CLAWDBOT_CONTROL_UI_BASE_PATH__="\/admin"/);
  assert.equal((await httpRequest(gw.port, "GET", "/admin/assets/control-ui.js")).status, 200);
  assert.equal((await httpRequest(gw.port, "GET", "/admin/deep/link")).status, 200);
  assert.equal((await httpRequest(gw.port, "GET", "/")).status, 404);
  assert.equal((await httpRequest(gw.port, "GET", "/adminx")).status, 404);
  assert.equal((await httpRequest(gw.port, "POST", "/")).status, 404);
});

test("disabled: nothing claimed (404, and POST is 404 rather than 405)", async (t) => {
  const gw = await uiGateway(t, "", false);
  assert.equal((await httpRequest(gw.port, "GET", "/")).status, 404);
  assert.equal((await httpRequest(gw.port, "POST", "/x")).status, 404);
});

test("assets are read on the first request, not at start; no build → 503", async (t) => {
  const ui = await uiBundle();
  const dir = await mkdtemp(join(tmpdir(), "clawgate-ui-lazy-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const gw = await startTestGateway({
    extra: { modules: [controlUiModule({ assetsDir: join(dir, "control-ui") }), a2uiModule({ assetsDir: join(dir, "a2ui") })] },
  });
  t.after(() => gw.close());
  const missing = await httpRequest(gw.port, "GET", "/");
  assert.equal(missing.status, 503);
  assert.match(missing.body, /Control UI assets not found/);
  const a2uiMissing = await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/");
  assert.equal(a2uiMissing.status, 503);
  assert.equal(a2uiMissing.body, "A2UI assets not found");
  // The build appears after start: served from the next request on (then held in memory).
  await cp(ui.controlUiDir, join(dir, "control-ui"), { recursive: true });
  await cp(ui.a2uiDir, join(dir, "a2ui"), { recursive: true });
  assert.equal((await httpRequest(gw.port, "GET", "/")).status, 200);
  assert.equal((await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/")).status, 200);
  await rm(join(dir, "control-ui"), { recursive: true });
  assert.equal((await httpRequest(gw.port, "GET", "/assets/control-ui.js")).status, 200, "held in memory");
});

test("A2UI page: redirect, index, bundle, no-store, 404 for unknown and traversal, 405", async (t) => {
  const gw = await uiGateway(t);
  const redirect = await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui?platform=linux");
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, "/__clawdbot__/a2ui/?platform=linux");
  const index = await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/");
  assert.equal(index.status, 200);
  assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(index.headers["cache-control"], "no-store");
  assert.match(index.body, /a2ui\.bundle\.js/);
  const bundle = await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/a2ui.bundle.js");
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers["content-type"], "text/javascript; charset=utf-8");
  assert.ok(bundle.body.includes("clawdbotA2UI"));
  assert.ok(bundle.body.includes("a2ui-surface"), "the @a2ui/lit renderer is in the bundle");
  assert.equal((await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/nope.js")).status, 404);
  assert.equal((await httpRequest(gw.port, "GET", "/__clawdbot__/a2ui/%2e%2e/%2e%2e/package.json")).status, 404);
  assert.equal((await httpRequest(gw.port, "GET", "/__clawdbot__/a2uix")).status, 200, "not the A2UI prefix: the root UI's SPA page");
  const post = await httpRequest(gw.port, "POST", "/__clawdbot__/a2ui/");
  assert.equal(post.status, 405);
});
