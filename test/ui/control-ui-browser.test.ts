/**
 * The Control UI and the A2UI page in a real browser (Debian chromium driven by
 * playwright-core): token entry, presence and a node appearing live, approving and rejecting
 * pairing requests, a streamed chat reply, an A2UI surface pushed by a node, and
 * `?gatewayUrl=` never connecting by itself (refused outright for ws:// to another host).
 *
 * Screenshots go to $UI_SCREENSHOT_DIR or a fresh temp dir (printed as a diagnostic).
 * Skipped (not passed) when chromium cannot start.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { a2uiModule } from "../../src/main/a2ui/a2ui-module.js";
import { controlUiModule } from "../../src/main/control-ui/control-ui-module.js";
import { connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectNode, nextInvoke, type TestNode } from "../helpers/node.js";
import { standInChat } from "./helpers/stand-in-chat.js";
import { uiBundle } from "./helpers/ui-bundle.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  // The insecure-context case loads the UI by the machine's host name; it must stay on loopback.
  `--host-resolver-rules=MAP ${hostname().toLowerCase()} 127.0.0.1`,
];

let browser: Browser | null = null;
let skip: string | false = false;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 20_000 });
} catch (err) {
  skip = `chromium cannot start (${CHROMIUM}): ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
}

const shots = process.env.UI_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), "clawgate-ui-shots-"));
mkdirSync(shots, { recursive: true });

const A2UI_MESSAGES = [
  {
    surfaceUpdate: {
      surfaceId: "main",
      components: [
        { id: "root", component: { Column: { children: { explicitList: ["title", "status", "deploy"] } } } },
        { id: "title", component: { Text: { text: { literalString: "Hello from A2UI" }, usageHint: "h2" } } },
        { id: "status", component: { Text: { text: { path: "/status" } } } },
        { id: "deploy-label", component: { Text: { text: { literalString: "Deploy now" } } } },
        { id: "deploy", component: { Button: { child: "deploy-label", action: { name: "deploy" } } } },
      ],
    },
  },
  { dataModelUpdate: { surfaceId: "main", contents: [{ key: "status", valueString: "Build 42 is green" }] } },
  { beginRendering: { surfaceId: "main", root: "root" } },
];

/**
 * What a node app does with `canvas.a2ui.*` invokes: load the A2UI page from the gateway in
 * its webview (here: a browser page), wait for `clawdbotA2UI`, apply the payload, and answer
 * the invoke with the page's result.
 */
async function serveA2uiInvokes(node: TestNode, page: Page, a2uiUrl: string, count: number): Promise<void> {
  let from = 0;
  for (let i = 0; i < count; i++) {
    const inv = await nextInvoke(node, from, 10_000);
    from = node.client.frames.indexOf(inv) + 1;
    const p = inv.payload as { id: string; nodeId: string; command: string; paramsJSON: string | null };
    const params = p.paramsJSON ? (JSON.parse(p.paramsJSON) as { messages?: unknown[]; jsonl?: string }) : {};
    if (page.url() !== a2uiUrl) await page.goto(a2uiUrl);
    await page.waitForFunction(() => typeof (globalThis as { clawdbotA2UI?: unknown }).clawdbotA2UI === "object");
    const result: unknown = await page.evaluate(
      ({ command, params }) => {
        const api = (globalThis as unknown as { clawdbotA2UI: { applyMessages(m: unknown): unknown; reset(): unknown } }).clawdbotA2UI;
        if (command === "canvas.a2ui.reset") return api.reset();
        const messages = command === "canvas.a2ui.pushJSONL" ? String(params.jsonl).split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as unknown) : params.messages;
        return api.applyMessages(messages);
      },
      { command: p.command, params },
    );
    await node.client.request("node.invoke.result", { id: p.id, nodeId: p.nodeId, ok: true, payloadJSON: JSON.stringify(result) });
  }
}

test("Control UI in chromium", { skip, timeout: 60_000 }, async (t) => {
  assert.ok(browser);
  const b = browser;
  t.after(() => b.close());
  t.diagnostic(`screenshots: ${shots}`);
  const ui = await uiBundle();
  const chat = standInChat((m) => `Hello! You said: ${m}. This reply was streamed.`);
  const gw: TestGateway = await startTestGateway({
    presenceBroadcastWindowMs: 20,
    extra: { modules: [controlUiModule({ assetsDir: ui.controlUiDir }), a2uiModule({ assetsDir: ui.a2uiDir })], registerMethods: (table) => chat.register(table) },
  });
  t.after(() => gw.close());
  const base = `http://127.0.0.1:${gw.port}`;
  const context = await b.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const consoleText: string[] = [];
  page.on("console", (m) => consoleText.push(m.text()));
  page.on("pageerror", (e) => consoleText.push(`pageerror: ${e.message}`));

  await t.test("enter the token, connect; presence and server info appear", async () => {
    await page.goto(`${base}/`);
    await page.getByTestId("token-input").fill(TEST_TOKEN);
    await page.getByTestId("connect").click();
    await page.getByTestId("conn-state").filter({ hasText: "connected" }).waitFor();
    await page.getByTestId("server-info").waitFor();
    // The page connected with a WebCrypto device identity (secure context: 127.0.0.1).
    await page.getByText(/device [0-9a-f]{12}…/).waitFor();
    await page.getByTestId("presence-entry").filter({ hasText: "Control UI" }).first().waitFor();
    await page.screenshot({ path: join(shots, "01-connected.png"), fullPage: true });
  });

  let node!: TestNode;
  await t.test("a node that connects appears with its caps and commands", async () => {
    node = await connectNode(gw.url, { displayName: "Studio Mac", platform: "darwin", caps: ["canvas", "screen"], commands: ["canvas.a2ui.push", "canvas.a2ui.pushJSONL", "canvas.a2ui.reset", "system.run"] });
    t.after(() => node.client.close());
    const row = page.locator(`[data-testid="node"][data-node-id="${node.nodeId}"]`);
    await row.filter({ hasText: "connected" }).waitFor({ timeout: 10_000 });
    const text = await row.innerText();
    assert.match(text, /Studio Mac/);
    assert.match(text, /canvas, screen/);
    assert.match(text, /canvas\.a2ui\.push/);
    await page.getByTestId("presence-entry").filter({ hasText: "Studio Mac" }).waitFor();
    await page.screenshot({ path: join(shots, "02-node.png"), fullPage: true });
  });

  await t.test("pending pairing requests: approve a device, reject a node", async () => {
    const device = createDevice();
    const { request } = gw.instance.devices.requestPairing({ deviceId: device.id, publicKey: device.publicKey, displayName: "Kitchen iPad", platform: "ios", clientId: "clawdbot-ios", role: "node", scopes: [], remoteIp: "192.168.1.20", silent: false });
    const { client: op } = await connectOk(gw.url, { scopes: ["operator.admin"] });
    t.after(() => op.close());
    const legacy = await op.request("node.pair.request", { nodeId: "legacy-node-1", displayName: "Garage Pi", platform: "linux" });
    assert.equal(legacy.ok, true);
    const deviceRow = page.locator(`[data-testid="pairing-request"][data-request-id="${request.requestId}"]`);
    const nodeRow = page.locator('[data-testid="pairing-request"][data-kind="node"]').filter({ hasText: "Garage Pi" });
    await deviceRow.waitFor();
    await nodeRow.waitFor();
    await page.getByTestId("pairing").screenshot({ path: join(shots, "03-pairing.png") });
    await deviceRow.getByTestId("approve").click();
    await deviceRow.waitFor({ state: "detached" });
    assert.ok(gw.instance.devices.getPaired(device.id), "device paired after Approve");
    await nodeRow.getByTestId("reject").click();
    await nodeRow.waitFor({ state: "detached" });
    const list = await op.request("node.pair.list", {});
    assert.deepEqual((list.payload.pending as unknown[]).length, 0);
    assert.ok(!(list.payload.paired as { nodeId: string }[]).some((n) => n.nodeId === "legacy-node-1"));
  });

  await t.test("chat: history, then a streamed reply (stand-in chat methods)", async () => {
    await page.getByTestId("chat-message").filter({ hasText: "earlier answer from history" }).waitFor();
    await page.getByTestId("chat-input").fill("ship it");
    await page.getByTestId("chat-send").click();
    await chat.streamed();
    const streaming = page.getByTestId("chat-streaming");
    await streaming.filter({ hasText: "You said: ship" }).waitFor();
    assert.ok(!(await streaming.innerText()).includes("streamed."), "partial text while streaming");
    await page.getByTestId("chat").screenshot({ path: join(shots, "04-chat-streaming.png") });
    chat.release();
    await page.locator('[data-testid="chat-message"][data-role="assistant"]').filter({ hasText: "Hello! You said: ship it. This reply was streamed." }).waitFor();
    await streaming.waitFor({ state: "detached" });
    await page.getByTestId("chat").screenshot({ path: join(shots, "05-chat-final.png") });
  });

  await t.test("an A2UI surface pushed to a node renders on the gateway's A2UI page", async () => {
    const webview = await context.newPage();
    // A string, not a function: tsx's transform would put its `__name` helper into it.
    await webview.addInitScript({ content: "globalThis.__actions = []; globalThis.clawdbotCanvasA2UIAction = { postMessage(m) { globalThis.__actions.push(m); } };" });
    const { client: agent } = await connectOk(gw.url, { scopes: ["operator.admin"] });
    t.after(() => agent.close());
    const served = serveA2uiInvokes(node, webview, `${base}/__clawdbot__/a2ui/`, 3);
    served.catch(() => undefined); // awaited at the end; a failure earlier must not hide the first error
    const push = await agent.request("node.invoke", { nodeId: node.nodeId, command: "canvas.a2ui.push", params: { messages: A2UI_MESSAGES }, idempotencyKey: "a2ui-1" }, 15_000);
    assert.equal(push.ok, true, JSON.stringify(push.error));
    assert.deepEqual(push.payload.payload, { ok: true, surfaces: ["main"] });
    await webview.getByText("Hello from A2UI").waitFor();
    await webview.getByText("Build 42 is green").waitFor();
    await webview.screenshot({ path: join(shots, "06-a2ui.png"), fullPage: true });
    // A user action goes back through the native handler.
    await webview.getByText("Deploy now").click();
    await webview.waitForFunction(() => (globalThis as unknown as { __actions: unknown[] }).__actions.length > 0);
    const actions = await webview.evaluate(() => (globalThis as unknown as { __actions: { userAction: { name: string; surfaceId: string } }[] }).__actions);
    assert.equal(actions[0]?.userAction.name, "deploy");
    assert.equal(actions[0]?.userAction.surfaceId, "main");
    // pushJSONL updates the data model; reset clears the surfaces.
    const jsonl = JSON.stringify({ dataModelUpdate: { surfaceId: "main", contents: [{ key: "status", valueString: "Deployed" }] } });
    const pushed = await agent.request("node.invoke", { nodeId: node.nodeId, command: "canvas.a2ui.pushJSONL", params: { jsonl }, idempotencyKey: "a2ui-2" }, 15_000);
    assert.equal(pushed.ok, true, JSON.stringify(pushed.error));
    await webview.getByText("Deployed").waitFor();
    // Text is markdown, inserted as HTML: markup in it must stay text.
    const hostile = [
      { surfaceUpdate: { surfaceId: "x", components: [{ id: "t", component: { Text: { text: { literalString: '<img src=x onerror="globalThis.__pwned=1"> **bold**' } } } }] } },
      { beginRendering: { surfaceId: "x", root: "t" } },
    ];
    await webview.evaluate(`globalThis.clawdbotA2UI.applyMessages(${JSON.stringify(JSON.stringify(hostile))})`);
    await webview.getByText('<img src=x onerror="globalThis.__pwned=1">').waitFor();
    await webview.locator("strong").filter({ hasText: "bold" }).waitFor();
    assert.equal(await webview.locator("a2ui-surface img").count(), 0);
    assert.equal(await webview.evaluate("globalThis.__pwned"), undefined);
    await webview.screenshot({ path: join(shots, "06b-a2ui-escaped.png"), fullPage: true });
    const reset = await agent.request("node.invoke", { nodeId: node.nodeId, command: "canvas.a2ui.reset", params: {}, idempotencyKey: "a2ui-3" }, 15_000);
    assert.deepEqual(reset.payload.payload, { ok: true, surfaces: [] });
    await webview.getByText("No A2UI surface yet.").waitFor();
    await served;
    await webview.close();
  });

  await t.test("?gatewayUrl= never connects by itself; ws:// to another host is refused", async () => {
    const probe = await context.newPage();
    const sockets: string[] = [];
    probe.on("websocket", (ws) => sockets.push(ws.url()));
    await probe.goto(`${base}/?gatewayUrl=${encodeURIComponent("ws://10.20.30.40:18789")}#token=${TEST_TOKEN}`);
    await probe.getByTestId("target-refused").waitFor();
    assert.match(await probe.getByTestId("target-refused").innerText(), /refusing unencrypted ws:\/\/ to non-loopback host 10\.20\.30\.40/);
    assert.equal(await probe.getByTestId("connect").isDisabled(), true);
    assert.ok(!probe.url().includes(TEST_TOKEN), "the fragment token left the address bar");
    await probe.screenshot({ path: join(shots, "07-gatewayurl-refused.png"), fullPage: true });

    await probe.goto(`${base}/?gatewayUrl=${encodeURIComponent("wss://gateway.example.invalid")}#token=${TEST_TOKEN}`);
    await probe.getByTestId("target-confirm").waitFor();
    assert.equal(await probe.getByTestId("target-url").innerText(), "wss://gateway.example.invalid");

    // Loopback target: shown and asked for; connects only on the click.
    await probe.goto(`${base}/?gatewayUrl=${encodeURIComponent(`ws://127.0.0.1:${gw.port}`)}#token=${TEST_TOKEN}`);
    await probe.getByTestId("target-confirm").waitFor();
    await probe.getByTestId("conn-state").filter({ hasText: "disconnected" }).waitFor();
    assert.deepEqual(sockets, [], "no WebSocket was opened before the user confirmed");
    await probe.screenshot({ path: join(shots, "08-gatewayurl-confirm.png"), fullPage: true });
    await probe.getByTestId("connect").click();
    await probe.getByTestId("conn-state").filter({ hasText: "connected" }).waitFor();
    // Playwright reports the socket through an event that can trail the page's own state.
    for (let i = 0; i < 200 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(sockets, [`ws://127.0.0.1:${gw.port}/`]);
    await probe.close();
  });

  await t.test("insecure context: token-only, refused unless gateway.controlUi.allowInsecureAuth", async () => {
    // The machine's host name is a name the gateway answers to (origin check) but not a
    // "potentially trustworthy" origin for the browser: no WebCrypto device identity there.
    // The resolver rule keeps the traffic on 127.0.0.1.
    const name = hostname().toLowerCase();
    const insecure = await b.newContext();
    t.after(() => insecure.close());
    const lax = await startTestGateway({
      controlUi: { enabled: true, basePath: "", allowInsecureAuth: true, allowedOrigins: [] },
      extra: { modules: [controlUiModule({ assetsDir: ui.controlUiDir })] },
    });
    t.after(() => lax.close());
    const p = await insecure.newPage();
    for (const [g, expect] of [[gw, "refused"], [lax, "connected"]] as const) {
      await p.goto(`http://${name}:${g.port}/#token=${TEST_TOKEN}`);
      assert.equal(await p.evaluate("window.isSecureContext"), false);
      await p.getByText("token-only (not a secure context)").waitFor();
      if (expect === "refused") {
        await p.getByTestId("connect-error").filter({ hasText: "control ui requires HTTPS or localhost (secure context)" }).waitFor();
        await p.screenshot({ path: join(shots, "10-insecure-refused.png"), fullPage: true });
      } else {
        await p.getByTestId("conn-state").filter({ hasText: "connected" }).waitFor();
      }
    }
  });

  await t.test("logs pane and health pane render; the token never reached the console", async () => {
    await page.getByTestId("health").waitFor();
    await page.getByTestId("logs").waitFor();
    await page.screenshot({ path: join(shots, "09-overview.png"), fullPage: true });
    assert.ok(!consoleText.some((l) => l.includes(TEST_TOKEN)), "token in console output");
    assert.ok(!consoleText.some((l) => l.startsWith("pageerror")), consoleText.join("\n"));
  });
});
