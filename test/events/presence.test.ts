/** Presence store (§6) and presence/health/tick events (§4), over real sockets where it matters. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PresenceStore, PRESENCE_TTL_MS } from "../../src/main/presence/presence-store.js";
import { startTestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";

test("presence store: TTL prune, cap drops oldest, merge unions roles/scopes, keys lower-cased, self entry kept", () => {
  let now = 1_000_000;
  const store = new PresenceStore(3, "v1", () => now);
  store.upsert("Dev-A", { host: "a", roles: ["operator"], scopes: ["operator.read"] });
  now += 10;
  store.upsert("dev-a", { mode: "ui", roles: ["node"], scopes: ["operator.write"] });
  const a = store.get("DEV-A");
  assert.deepEqual(a?.roles, ["operator", "node"]);
  assert.deepEqual(a?.scopes, ["operator.read", "operator.write"]);
  assert.equal(a?.host, "a");
  assert.equal(a?.mode, "ui");
  now += 10;
  store.upsert("b", { host: "b" });
  now += 10;
  store.upsert("c", { host: "c" });
  const list = store.list();
  assert.equal(list.length, 3, "capped at 3 including self");
  assert.deepEqual(list.map((e) => e.host).slice(0, 2), ["c", "b"], "newest first, oldest dropped");
  assert.ok(list.some((e) => e.reason === "self"));
  now += PRESENCE_TTL_MS + 1;
  const pruned = store.list();
  assert.equal(pruned.length, 1, "expired entries dropped");
  assert.equal(pruned[0]?.reason, "self");
});

test("system-event broadcasts presence with seq and stateVersion to every client; CLI clients are not tracked", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const a = await connectOk(gw.url, { client: { id: "clawdbot-macos", mode: "ui", deviceFamily: "Mac", modelIdentifier: "Mac15,3" } });
  const b = await connectOk(gw.url);
  const cli = await connectOk(gw.url, { client: { id: "cli", mode: "cli" } });
  t.after(() => [a, b, cli].forEach((c) => c.client.close()));

  const list = (await a.client.request("system-presence")).payload as { host?: string; mode?: string; deviceFamily?: string; modelIdentifier?: string; version?: string }[];
  const ui = list.find((e) => e.mode === "ui");
  assert.equal(ui?.host, "clawdbot-macos", "host = client.id without displayName");
  assert.equal(ui?.deviceFamily, "Mac");
  assert.equal(ui?.modelIdentifier, "Mac15,3");
  assert.equal(ui?.version, "1.0.0");
  assert.ok(!list.some((e) => e.mode === "cli"), "cli clients never appear");

  const before = a.hello.snapshot.stateVersion.presence as number;
  const res = await cli.client.request("system-event", { text: "Node: studio (10.0.0.9) · app 2.0 · mode ui · reason periodic", instanceId: "studio-1" });
  assert.deepEqual(res.payload, { ok: true });
  for (const c of [a, b, cli]) {
    const ev = await c.client.event("presence");
    assert.equal(typeof ev.seq, "number");
    assert.ok(ev.stateVersion!.presence > before);
    assert.ok(Array.isArray(ev.payload.presence));
    const entry = ev.payload.presence.find((e: { instanceId?: string }) => e.instanceId === "studio-1");
    assert.equal(entry.host, "studio");
    assert.equal(entry.ip, "10.0.0.9");
    assert.equal(entry.version, "2.0");
  }
  const blank = await cli.client.request("system-event", { text: "   " });
  assert.equal(blank.error?.message, "text required");
});

test("seq is strictly increasing per client (per view); unicasts carry none; stateVersion never decreases", async (t) => {
  const gw = await startTestGateway({ presenceBroadcastWindowMs: 0 });
  t.after(() => gw.close());
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  for (let i = 0; i < 5; i++) await client.request("system-event", { text: `note ${i}` });
  await client.next(() => client.frames.filter((f) => f.event === "presence").length >= 5);
  const events = client.frames.filter((f) => f.type === "event" && f.event !== "connect.challenge");
  const seqs = events.map((f) => f.seq!);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs.join(",")}`);
  const versions = events.filter((f) => f.stateVersion).map((f) => f.stateVersion!.presence);
  for (let i = 1; i < versions.length; i++) assert.ok(versions[i]! >= versions[i - 1]!);
  assert.equal(client.frames.find((f) => f.event === "connect.challenge")?.seq, undefined);
});

test("presence broadcasts are coalesced: a disconnect storm yields few broadcasts carrying the latest list", async (t) => {
  const gw = await startTestGateway({ presenceBroadcastWindowMs: 200 });
  t.after(() => gw.close());
  const watcher = await connectOk(gw.url);
  t.after(() => watcher.client.close());
  const clients = await Promise.all(Array.from({ length: 30 }, (_, i) => connectOk(gw.url, { client: { id: "test", mode: "ui", instanceId: `storm-${i}` } })));
  const start = watcher.client.frames.length;
  for (const c of clients) c.client.close();
  // The last broadcast must show every storm entry as disconnected.
  const final = await watcher.client.next(
    (f) =>
      f.event === "presence" &&
      f.payload.presence.filter((e: { instanceId?: string; reason?: string }) => e.instanceId?.startsWith("storm-") && e.reason === "disconnect").length === 30,
    5000,
    start,
  );
  assert.ok(final);
  const broadcasts = watcher.client.frames.slice(start).filter((f) => f.event === "presence").length;
  assert.ok(broadcasts <= 4, `30 disconnects produced ${broadcasts} presence broadcasts`);
});

test("connecting clients do not trigger health broadcasts; a probe refresh with unchanged content does not either", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  const others = await Promise.all(Array.from({ length: 10 }, () => connectOk(gw.url)));
  for (const o of others) o.client.close();
  const h = await client.request("health", { probe: true });
  assert.equal(h.ok, true);
  assert.equal(h.payload.ok, true);
  const s = await client.request("status");
  assert.equal(s.ok, true);
  assert.ok(Array.isArray(s.payload.sessions.recent));
  assert.equal(client.frames.filter((f) => f.event === "health").length, 0);
});

test("tick events arrive every tickIntervalMs with a numeric ts", async (t) => {
  const gw = await startTestGateway({ policy: { maxPayload: 524288, maxBufferedBytes: 1572864, tickIntervalMs: 50 } });
  t.after(() => gw.close());
  const { client, hello } = await connectOk(gw.url);
  t.after(() => client.close());
  assert.equal(hello.policy.tickIntervalMs, 50);
  const a = await client.event("tick", 2000);
  const b = await client.next((f) => f.event === "tick" && f.seq! > a.seq!, 2000);
  assert.equal(typeof b.payload.ts, "number");
  assert.ok(b.payload.ts >= a.payload.ts);
});
