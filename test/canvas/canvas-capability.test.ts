/**
 * On a non-loopback bind the canvas host serves only under a per-session capability given in
 * `hello-ok.canvasHostUrl`; it stops working when that session closes, and survives a
 * canvas worker restart. The gateway and the canvas host are bound to 0.0.0.0 (the
 * "non-loopback" configuration) but every byte of traffic goes to 127.0.0.1.
 */
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import pino from "pino";
import WebSocket from "ws";
import { startGateway } from "../../src/main/gateway.js";
import { CANVAS_HOST_MODULE, canvasHostModules, isLoopbackBind, type CanvasHostApi } from "../../src/main/canvas/canvas-host.js";
import { CapabilityGate, CanvasCapabilityIssuer, SYNC_CHUNK, type CapabilityEvent } from "../../src/workers/canvas/canvas-capability.js";
import { GatewayError } from "../../src/shared/errors.js";
import { testOptions } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { tempDir } from "../helpers/temp-dir.js";

const CANVAS = "/__clawdbot__/canvas/";

async function get(url: string): Promise<{ status: number; body: string; location: string | null }> {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, body: await res.text(), location: res.headers.get("location") };
}

/** Opens a WebSocket; resolves with it once open, or with the HTTP status it was refused with. */
function openWs(t: TestContext, url: string): Promise<WebSocket | number> {
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  ws.on("error", () => {});
  return new Promise((resolve) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });
}

/** `p`, or a failure naming `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function startNonLoopback(t: TestContext, host: string) {
  const dir = tempDir(t, "clawgate-canvas-cap-");
  const log = pino({ level: "silent" });
  const options = testOptions(dir, { host });
  const runtime = { options, canvas: { enabled: true, root: join(dir, "canvas"), port: 0, liveReload: true, startWorker: "at-start" as const }, sources: { port: "flag", bind: "default" } };
  const gw = await startGateway(options, log, { modules: canvasHostModules(runtime.canvas) });
  const canvas = gw.module<CanvasHostApi>(CANVAS_HOST_MODULE)!;
  // The gateway listens without waiting for the canvas worker: wait for it here.
  await canvas.whenRunning().then(() => canvas.request("status", {}, { timeoutMs: 10_000 }));
  t.after(async () => {
    await gw.stop();
  });
  return { canvas, gw, canvasPort: options.canvasHostPort! };
}

test("non-loopback bind: no capability → 403, the session's capability → 200, a closed session's → 403", async (t) => {
  const { canvas, gw, canvasPort } = await startNonLoopback(t, "0.0.0.0");
  const gwUrl = `ws://127.0.0.1:${gw.server.port}`;
  const bare = `http://127.0.0.1:${canvasPort}`;

  const a = await connectOk(gwUrl);
  t.after(() => a.client.close());
  const b = await connectOk(gwUrl);
  t.after(() => b.client.close());
  const urlA = a.hello.canvasHostUrl as string;
  const urlB = b.hello.canvasHostUrl as string;
  assert.match(urlA, new RegExp(`^http://127\\.0\\.0\\.1:${canvasPort}/__cap/[A-Za-z0-9_-]{43}$`));
  assert.notEqual(urlA, urlB, "one capability per session");

  // Without a capability (or with a made-up one) nothing is served, whatever the path.
  for (const target of [CANVAS, `${CANVAS}index.html`, "/__clawdbot__/a2ui/", "/__clawdbot__/canvas", "/", `/__cap/${"A".repeat(43)}${CANVAS}`, "/__cap/short/__clawdbot__/canvas/"]) {
    const res = await get(bare + target);
    assert.equal(res.status, 403, target);
    assert.ok(!/<html/i.test(res.body), target);
  }
  assert.equal(await openWs(t, `ws://127.0.0.1:${canvasPort}/__clawdbot/ws`), 403);

  // With it: pages, assets and redirects stay under the capability.
  const page = await get(`${urlA}${CANVAS}`);
  assert.equal(page.status, 200);
  assert.match(page.body, /<html/i);
  assert.equal((await get(`${urlA}/__clawdbot__/a2ui/a2ui.bundle.js`)).status, 200);
  const capPath = new URL(urlA).pathname;
  assert.equal((await get(`${urlA}/__clawdbot__/canvas?v=1`)).location, `${capPath}${CANVAS}?v=1`);
  assert.equal((await get(`${urlA}${CANVAS}..%2f..%2fx`)).status, 404, "path safety still applies behind a capability");
  const liveA = await openWs(t, `ws://127.0.0.1:${canvasPort}${capPath}/__clawdbot/ws`);
  assert.ok(liveA instanceof WebSocket, `live reload under the capability: ${String(liveA)}`);
  const revoked = once(liveA, "close");

  // A's session closes: its capability dies with it (its live-reload socket is closed 1008).
  a.client.close();
  const [code] = (await within(revoked, 5000, "live-reload socket of the closed session")) as [number];
  assert.equal(code, 1008);
  assert.equal((await get(`${urlA}${CANVAS}`)).status, 403, "capability of a closed session");
  assert.equal((await get(`${urlB}${CANVAS}`)).status, 200, "other sessions keep theirs");

  // A new canvas worker learns the open sessions' capabilities from main.
  const gen = canvas.getState().generation;
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
  const st = await canvas.request("status", {}, { timeoutMs: 10_000 });
  assert.equal(st.capabilities, 1);
  assert.equal((await get(`${urlB}${CANVAS}`)).status, 200, "after a worker restart");
  assert.equal((await get(`${urlA}${CANVAS}`)).status, 403, "still revoked after a worker restart");
});

test("loopback binds need no capability; other binds do", () => {
  for (const host of ["127.0.0.1", "127.0.0.2", "::1", "localhost"]) assert.equal(isLoopbackBind(host), true, host);
  for (const host of ["0.0.0.0", "::", "192.168.1.5", "100.64.0.1"]) assert.equal(isLoopbackBind(host), false, host);
});

test("issuer and gate: grant on hello, revoke on close, sync replaces the set; the worker never sees a token", () => {
  const sent: CapabilityEvent[] = [];
  const issuer = new CanvasCapabilityIssuer((e) => sent.push(e));
  const gate = new CapabilityGate();
  const revokedDigests: string[] = [];
  gate.onRevoke((d) => revokedDigests.push(d));
  const prefix = issuer.urlPrefixFor("conn-1");
  const token = prefix.slice("/__cap/".length);
  assert.equal(issuer.urlPrefixFor("conn-1"), prefix, "stable for the session");
  assert.notEqual(issuer.urlPrefixFor("conn-2"), prefix);
  assert.ok(!JSON.stringify(sent).includes(token), "only digests cross to the worker");
  for (const e of sent) gate.apply(e);
  const admitted = gate.admit(`${prefix}${CANVAS}x.html?q=1`);
  assert.deepEqual(admitted && { mount: admitted.mount, rest: admitted.rest }, { mount: prefix, rest: `${CANVAS}x.html?q=1` });
  assert.equal(gate.admit(prefix), null, "a bare mount is not a request path");
  issuer.revoke("conn-1");
  gate.apply(sent[sent.length - 1]!);
  assert.equal(gate.admit(`${prefix}${CANVAS}`), null);
  assert.equal(revokedDigests.length, 1);
  // A worker that missed events is repaired by a sync (and revokes what is gone).
  const stale = new CapabilityGate();
  stale.apply({ type: "capGrant", digest: "gone" });
  sent.length = 0;
  issuer.sync();
  stale.apply(sent[0]!);
  assert.equal(stale.size, 1);
  assert.ok(stale.admit(`${issuer.urlPrefixFor("conn-2")}${CANVAS}`));
  // Sending while the worker is down never throws into the handshake.
  const down = new CanvasCapabilityIssuer(() => {
    throw new Error("worker down");
  });
  assert.match(down.urlPrefixFor("c"), /^\/__cap\/[A-Za-z0-9_-]{43}$/);
});

test("a sync of many sessions is chunked below the ring size and swapped in at its last chunk", () => {
  const sent: CapabilityEvent[] = [];
  const issuer = new CanvasCapabilityIssuer((e) => sent.push(e));
  const n = SYNC_CHUNK * 2 + 5;
  for (let i = 0; i < n; i++) issuer.urlPrefixFor(`conn-${i}`);
  sent.length = 0;
  issuer.sync();
  assert.equal(sent.length, 3);
  for (const e of sent) assert.ok(e.type === "capSync" && JSON.stringify(e).length < 256 * 1024);
  const gate = new CapabilityGate();
  gate.apply({ type: "capGrant", digest: "stale" });
  gate.apply(sent[0]!);
  assert.equal(gate.size, 1, "the old set stays in force until the last chunk");
  gate.apply(sent[1]!);
  gate.apply(sent[2]!);
  assert.equal(gate.size, n);
  const empty = new CanvasCapabilityIssuer((e) => sent.push(e));
  sent.length = 0;
  empty.sync();
  assert.deepEqual(sent, [{ type: "capSync", digests: [], first: true, last: true }]);
});

test("a grant refused by a full ring is repaired by a later sync", async (t) => {
  const events: CapabilityEvent[] = [];
  let full = true;
  let synced: () => void = () => {};
  const resynced = new Promise<void>((resolve) => (synced = resolve));
  const issuer = new CanvasCapabilityIssuer((e) => {
    if (full) throw new GatewayError("GW_ERR_RING_OVERFLOW", "ring full");
    events.push(e);
    if (e.type === "capSync") synced();
  });
  t.after(() => issuer.close());
  const prefix = issuer.urlPrefixFor("conn-1");
  full = false;
  const keepAlive = setTimeout(() => {}, 5000); // the repair timer is unref'd
  await resynced;
  clearTimeout(keepAlive);
  const gate = new CapabilityGate();
  for (const e of events) gate.apply(e);
  assert.ok(gate.admit(`${prefix}${CANVAS}`), "the refused grant arrived through the sync");
});
