/**
 * Node registry (§2.8, §2.9), node.list/describe (§3.11), node.event and node audiences
 * (§4), over real sockets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { connectNode, nextInvoke } from "../helpers/node.js";
import { commandAllowlist, filterDeclaredCommands, nodePlatformId } from "../../src/main/nodes/node-command-policy.js";

test("platform classes and allowlists (§2.8): prefix match, deviceFamily fallback, allow adds, deny removes, lists interned", () => {
  assert.equal(nodePlatformId("iOS 18.2", undefined), "ios");
  assert.equal(nodePlatformId("Android 15", undefined), "android");
  assert.equal(nodePlatformId("macos 15.2", undefined), "macos");
  assert.equal(nodePlatformId("darwin", undefined), "macos");
  assert.equal(nodePlatformId("linux 6.8.0", undefined), "linux");
  assert.equal(nodePlatformId("win32", undefined), "windows");
  assert.equal(nodePlatformId("", "iPad"), "ios");
  assert.equal(nodePlatformId("web", "Mac"), "macos");
  assert.equal(nodePlatformId("plan9", undefined), "unknown");

  const none = { allowCommands: [], denyCommands: [] };
  const ios = commandAllowlist("ios", none);
  assert.ok(ios.has("canvas.snapshot") && ios.has("camera.clip") && ios.has("screen.record") && ios.has("location.get"));
  assert.ok(!ios.has("system.run") && !ios.has("sms.send"));
  assert.ok(commandAllowlist("android", none).has("sms.send"));
  assert.ok(commandAllowlist("macos", none).has("system.run") && commandAllowlist("macos", none).has("canvas.eval"));
  assert.deepEqual([...commandAllowlist("linux", none)].sort(), ["browser.proxy", "system.execApprovals.get", "system.execApprovals.set", "system.notify", "system.run", "system.which"]);
  const unknown = commandAllowlist("unknown", none);
  assert.ok(unknown.has("sms.send") && unknown.has("system.run") && unknown.has("canvas.a2ui.pushJSONL"));
  const custom = { allowCommands: [" my.cmd "], denyCommands: ["system.run"] };
  const linux = commandAllowlist("linux", custom);
  assert.ok(linux.has("my.cmd") && !linux.has("system.run") && linux.has("system.which"));

  const a = filterDeclaredCommands([" system.which", "system.run", "canvas.eval", "system.run"], commandAllowlist("linux", none));
  assert.deepEqual(a, ["system.run", "system.which"], "trimmed, intersected, unique, sorted");
  const b = filterDeclaredCommands(["system.run", "system.which"], commandAllowlist("linux", none));
  assert.equal(a, b, "identical lists share one array");
});

test("command policy at invoke (§12.6 #49): not allowlisted, nothing declared, not declared, allowed with params:null, live deny/allow", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client: op } = await connectOk(gw.url);
  const iosRunOnly = await connectNode(gw.url, { platform: "iOS 18.2", commands: ["system.run"] });
  const iosNothing = await connectNode(gw.url, { platform: "iOS 18.2" });
  const iosCanvas = await connectNode(gw.url, { platform: "iOS 18.2", commands: ["canvas.snapshot"] });
  const mac = await connectNode(gw.url, { platform: "darwin", commands: ["system.run"] });
  const linux = await connectNode(gw.url, { platform: "linux", commands: ["custom.thing", "system.run"] });
  t.after(() => [op, iosRunOnly.client, iosNothing.client, iosCanvas.client, mac.client, linux.client].forEach((c) => c.close()));

  const invoke = (nodeId: string, command: string, params?: unknown) =>
    op.request("node.invoke", { nodeId, command, idempotencyKey: "k", timeoutMs: 2000, ...(params !== undefined ? { params } : {}) });
  const refused = (reason: string, command: string) => ({ code: "INVALID_REQUEST", message: "node command not allowed", details: { reason, command } });

  assert.deepEqual((await invoke(iosRunOnly.nodeId, "system.run")).error, refused("command not allowlisted", "system.run"));
  assert.deepEqual((await invoke(iosNothing.nodeId, "canvas.snapshot")).error, refused("node did not declare commands", "canvas.snapshot"));
  assert.deepEqual((await invoke(mac.nodeId, "system.which")).error, refused("command not declared by node", "system.which"));
  assert.deepEqual((await invoke(linux.nodeId, "custom.thing")).error, refused("command not allowlisted", "custom.thing"));

  const pending = invoke(iosCanvas.nodeId, "canvas.snapshot", null);
  const req = await nextInvoke(iosCanvas);
  assert.equal(req.payload.paramsJSON, "null");
  await iosCanvas.client.request("node.invoke.result", { id: req.payload.id, nodeId: iosCanvas.nodeId, ok: true, payload: { format: "png" } });
  assert.deepEqual((await pending).payload.payload, { format: "png" });

  // Policy is read live at invoke time (hot reload replaces ctx.options wholesale).
  const ctx = gw.server.ctx;
  ctx.options = { ...ctx.options, nodes: { allowCommands: [], denyCommands: ["system.run"] } };
  assert.deepEqual((await invoke(mac.nodeId, "system.run")).error, refused("command not allowlisted", "system.run"));
  // A node connecting under allowCommands keeps the extra command it declared.
  ctx.options = { ...ctx.options, nodes: { allowCommands: ["custom.thing"], denyCommands: [] } };
  const linux2 = await connectNode(gw.url, { platform: "linux", commands: ["custom.thing"] });
  t.after(() => linux2.client.close());
  const p2 = invoke(linux2.nodeId, "custom.thing");
  const r2 = await nextInvoke(linux2);
  await linux2.client.request("node.invoke.result", { id: r2.payload.id, nodeId: linux2.nodeId, ok: true });
  assert.equal((await p2).ok, true);
});

test("node.list merges paired-as-node devices and live sessions with the reference's fields and sort; node.describe", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client: op } = await connectOk(gw.url);
  t.after(() => op.close());

  // Paired as a node (silently, from loopback), then gone.
  const offline = await connectNode(gw.url, { platform: "linux", displayName: "Zulu box" });
  offline.client.close();
  await offline.client.closed;
  await waitFor(() => gw.nodes.registry.get(offline.nodeId) === undefined);
  // An operator device is paired but is not a node.
  const opDevice = createDevice();
  const opd = await connectOk(gw.url, { device: opDevice });
  t.after(() => opd.client.close());
  // Live nodes.
  const live = await connectNode(gw.url, {
    platform: "macos 15.2",
    deviceFamily: "Mac",
    displayName: "alpha",
    commands: ["system.which", "canvas.eval", "system.run", "bogus.cmd"],
    caps: ["system", "canvas", "system", " camera"],
    permissions: { "camera.capture": true },
    pathEnv: "/usr/bin:/bin",
  });
  const noDevice = await connectNode(gw.url, { noDevice: true, platform: "linux", displayName: "Beta" });
  t.after(() => [live.client, noDevice.client].forEach((c) => c.close()));

  const res = await op.request("node.list", {});
  assert.equal(res.ok, true);
  assert.equal(typeof res.payload.ts, "number");
  const nodes = res.payload.nodes as Record<string, unknown>[];
  assert.deepEqual(
    nodes.map((n) => [n.nodeId, n.connected, n.paired]),
    [
      [live.nodeId, true, true],
      ["node-host", true, false],
      [offline.nodeId, false, true],
    ],
    "connected first, then by display name; the operator device is not listed",
  );
  const a = nodes[0]!;
  assert.deepEqual(Object.keys(a), [
    "nodeId", "displayName", "platform", "version", "deviceFamily", "remoteIp", "caps", "commands", "pathEnv", "permissions", "connectedAtMs", "paired", "connected",
  ]);
  assert.equal(a.displayName, "alpha");
  assert.equal(a.platform, "macos 15.2");
  assert.equal(a.version, "1.0.0");
  assert.equal(a.deviceFamily, "Mac");
  assert.equal(a.remoteIp, "127.0.0.1");
  assert.deepEqual(a.caps, ["camera", "canvas", "system"]);
  assert.deepEqual(a.commands, ["canvas.eval", "system.run", "system.which"], "filtered by the macOS allowlist, sorted");
  assert.deepEqual(a.permissions, { "camera.capture": true });
  assert.equal(a.pathEnv, "/usr/bin:/bin");
  assert.equal(typeof a.connectedAtMs, "number");
  const z = nodes[2]!;
  assert.deepEqual(z, { nodeId: offline.nodeId, displayName: "Zulu box", platform: "linux", remoteIp: "127.0.0.1", caps: [], commands: [], paired: true, connected: false });

  const d1 = await op.request("node.describe", { nodeId: live.nodeId });
  assert.deepEqual({ ...d1.payload, ts: 0 }, { ts: 0, ...a });
  const d2 = await op.request("node.describe", { nodeId: offline.nodeId });
  assert.equal(d2.payload.connected, false);
  assert.equal(d2.payload.paired, true);
  const d3 = await op.request("node.describe", { nodeId: opDevice.id });
  assert.deepEqual(d3.error, { code: "INVALID_REQUEST", message: "unknown nodeId", details: { nodeId: opDevice.id } });
  const d4 = await op.request("node.describe", { nodeId: "nope" });
  assert.equal(d4.error?.message, "unknown nodeId");
});

test("a newer connection with the same node id replaces the older one; the older one's close does not unregister it", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client: op } = await connectOk(gw.url);
  const device = createDevice();
  const first = await connectNode(gw.url, { device, platform: "linux", commands: ["system.run"] });
  const toFirst = op.request("node.invoke", { nodeId: first.nodeId, command: "system.run", idempotencyKey: "a" });
  await nextInvoke(first);
  const second = await connectNode(gw.url, { device, platform: "linux", commands: ["system.run", "system.which"] });
  t.after(() => [op, first.client, second.client].forEach((c) => c.close()));
  assert.equal(gw.nodes.registry.size, 1);
  const list = (await op.request("node.list", {})).payload.nodes;
  assert.equal(list.length, 1);
  assert.deepEqual(list[0].commands, ["system.run", "system.which"], "caps/commands come from the live (newest) connection");

  const toSecond = op.request("node.invoke", { nodeId: device.id, command: "system.which", idempotencyKey: "b" });
  const req2 = await nextInvoke(second);
  assert.equal(first.client.frames.filter((f) => f.event === "node.invoke.request").length, 1, "the older socket gets nothing new");

  first.client.close();
  const r1 = await toFirst;
  assert.equal(r1.error?.message, "Error: node disconnected (system.run)", "invokes sent to the closed socket fail");
  assert.ok(gw.nodes.registry.get(device.id), "still registered through the newer connection");
  await second.client.request("node.invoke.result", { id: req2.payload.id, nodeId: device.id, ok: true, payload: 2 });
  assert.equal((await toSecond).payload.payload, 2);
});

test("on connect a node gets voicewake.changed after hello-ok (defaults, or settings/voicewake.json); lastConnectedAtMs lands in the legacy store", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const node = await connectNode(gw.url);
  t.after(() => node.client.close());
  const ev = await node.client.event("voicewake.changed");
  assert.deepEqual(ev.payload, { triggers: ["clawd", "claude", "computer"] });
  assert.equal(ev.seq, undefined);
  const helloIdx = node.client.frames.findIndex((f) => f.type === "res");
  assert.ok(helloIdx >= 0 && node.client.frames.indexOf(ev) > helloIdx, "after the connect response");

  // Legacy node store: pair the node id, reconnect, the connect time is recorded.
  const { client: op } = await connectOk(gw.url);
  t.after(() => op.close());
  const reqd = await op.request("node.pair.request", { nodeId: node.nodeId, displayName: "n" });
  await op.request("node.pair.approve", { requestId: reqd.payload.request.requestId });
  const before = Date.now();
  const again = await connectNode(gw.url, { device: node.device });
  t.after(() => again.client.close());
  await gw.nodes.pairing.flush();
  const paired = JSON.parse(await readFile(join(gw.stateDir, "nodes", "paired.json"), "utf8"));
  assert.ok(paired[node.nodeId].lastConnectedAtMs >= before);

  const dir = await mkdtemp(join(tmpdir(), "clawgate-vw-"));
  await mkdir(join(dir, "settings"), { recursive: true });
  await writeFile(join(dir, "settings", "voicewake.json"), JSON.stringify({ triggers: [" hey ", "", "jarvis"], updatedAtMs: 1 }));
  const gw2 = await startTestGateway({ stateDir: dir });
  t.after(async () => {
    await gw2.close();
    await rm(dir, { recursive: true, force: true });
  });
  const n2 = await connectNode(gw2.url);
  t.after(() => n2.client.close());
  assert.deepEqual((await n2.client.event("voicewake.changed")).payload, { triggers: ["hey", "jarvis"] });
});

test("node.event: chat.subscribe brings health and session events to that node only; exec notices become system events; agent events are UNAVAILABLE", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const ctx = gw.server.ctx;
  const subscribed = await connectNode(gw.url, { platform: "linux" });
  const bystander = await connectNode(gw.url, { platform: "linux" });
  const { client: op } = await connectOk(gw.url);
  t.after(() => [subscribed.client, bystander.client, op].forEach((c) => c.close()));

  const sub = await subscribed.client.request("node.event", { event: "chat.subscribe", payload: { sessionKey: "agent:main:main" } });
  assert.deepEqual(sub.payload, { ok: true });
  ctx.bus.broadcast("health", { ok: true, probe: 1 }, { withStateVersion: true });
  const h = await subscribed.client.event("health");
  assert.equal(h.payload.probe, 1);
  // Delivered through the node's subscription, like chat/agent to nodes: no seq, so the
  // node's own broadcast seq (tick, shutdown) stays contiguous.
  assert.equal(h.seq, undefined);
  assert.deepEqual(h.stateVersion, gw.server.ctx.bus.stateVersion);
  assert.equal((await op.event("health")).payload.probe, 1, "operators get it once, as before");
  assert.equal(gw.nodes.subscriptions.sendToSession("agent:main:main", "chat", { runId: "r", state: "final" }), 1);
  assert.equal(gw.nodes.subscriptions.sendToSession("other", "chat", { runId: "x" }), 0);
  const chat = await subscribed.client.event("chat");
  assert.equal(chat.payload.runId, "r");

  await subscribed.client.request("node.event", { event: "chat.unsubscribe", payloadJSON: JSON.stringify({ sessionKey: "agent:main:main" }) });
  const mark = subscribed.client.frames.length;
  ctx.bus.broadcast("health", { ok: true, probe: 2 }, { withStateVersion: true });
  ctx.bus.broadcast("tick", { ts: 42 });
  await subscribed.client.next((f) => f.event === "tick" && f.payload.ts === 42, 5000, mark);
  await bystander.client.next((f) => f.event === "tick" && f.payload.ts === 42);
  assert.equal(subscribed.client.frames.slice(mark).filter((f) => f.event === "health").length, 0, "unsubscribed: no more health");
  assert.equal(bystander.client.frames.filter((f) => f.event === "health" || f.event === "chat").length, 0, "never subscribed: never");

  await subscribed.client.request("node.event", { event: "exec.started", payload: { runId: "r1", command: "ls -la" } });
  await subscribed.client.request("node.event", { event: "exec.finished", payload: { runId: "r1", exitCode: 0, output: " total 0 \n" } });
  await subscribed.client.request("node.event", { event: "exec.finished", payload: { sessionKey: "s2", timedOut: true } });
  await subscribed.client.request("node.event", { event: "exec.denied", payload: { runId: "r3", reason: "user-denied", command: "rm -rf /" } });
  const id = subscribed.nodeId;
  assert.deepEqual(ctx.systemEvents.peek(`node-${id}`), [
    `Exec started (node=${id} id=r1): ls -la`,
    `Exec finished (node=${id} id=r1, code 0)\ntotal 0`,
    `Exec denied (node=${id} id=r3, user-denied): rm -rf /`,
  ]);
  assert.deepEqual(ctx.systemEvents.peek("s2"), [`Exec finished (node=${id}, timeout)`]);

  // Agent runs exist now: both start a run (which fails at once here: no model configured).
  const voice = await subscribed.client.request("node.event", { event: "voice.transcript", payload: { text: "hello" } });
  assert.deepEqual(voice.payload, { ok: true });
  const agent = await subscribed.client.request("node.event", { event: "agent.request", payloadJSON: JSON.stringify({ message: "do it" }) });
  assert.deepEqual(agent.payload, { ok: true });
  const empty = await subscribed.client.request("node.event", { event: "voice.transcript", payload: { text: "  " } });
  assert.deepEqual(empty.payload, { ok: true }, "nothing to run: ignored like the reference");
  const other = await subscribed.client.request("node.event", { event: "something.else", payloadJSON: "{not json" });
  assert.deepEqual(other.payload, { ok: true });
});

test("audiences: nodes get tick and their unicasts, never presence, pairing or other operator broadcasts", async (t) => {
  const gw = await startTestGateway({ presenceBroadcastWindowMs: 0 });
  t.after(() => gw.close());
  const node = await connectNode(gw.url, { platform: "linux", commands: ["system.run"] });
  const { client: op, hello: opHello } = await connectOk(gw.url);
  t.after(() => [node.client, op].forEach((c) => c.close()));
  // Nodes are not presence consumers: their hello-ok carries an empty list, operators' the full one.
  assert.deepEqual(node.hello.snapshot.presence, []);
  assert.ok(opHello.snapshot.presence.some((e: { reason?: string }) => e.reason === "self"));
  assert.ok(opHello.snapshot.presence.some((e: { instanceId?: string }) => e.instanceId === node.nodeId), "the node itself is in operators' presence");
  // The connection keeps no credentials, signature or raw command list.
  const kept = gw.nodes.registry.get(node.nodeId)?.conn.params;
  assert.ok(kept && kept.auth === undefined && kept.device === undefined && kept.commands === undefined);
  await op.request("system-event", { text: "Node: x · mode ui" });
  await op.event("presence");
  await op.request("node.pair.request", { nodeId: "legacy-1" });
  await op.event("node.pair.requested");
  gw.server.ctx.bus.broadcast("agent", { runId: "r", seq: 1, stream: "assistant", ts: 1, data: {} });
  gw.server.ctx.bus.broadcast("tick", { ts: 7 });
  await op.event("agent");
  await node.client.next((f) => f.event === "tick" && f.payload.ts === 7);
  const seen = node.client.frames.filter((f) => f.type === "event").map((f) => f.event);
  assert.deepEqual(seen, ["connect.challenge", "voicewake.changed", "tick"]);
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise<void>((r) => setImmediate(r));
  }
}
