/** Merge rules of cluster presence (presence-table.ts) and the wire decoder, without a broker. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PresenceTable } from "../../src/main/cluster/presence-table.js";
import { decodePresenceMessage, encodePresenceMessage } from "../../src/main/cluster/presence-wire.js";
import { PRESENCE_TTL_MS, PresenceStore } from "../../src/main/presence/presence-store.js";
import type { PresenceEntry } from "../../src/shared/protocol/generated/types.js";

const e = (host: string, ts: number, reason = "connect"): PresenceEntry => ({ host, ts, reason });

test("a delta with the next seq applies; a skipped seq, a new peer or a new epoch report a gap", () => {
  const t = new PresenceTable();
  assert.equal(t.applyDelta("gw-b", "ep1", 1, [["dev-1", e("one", 10)]], 100), "gap", "unknown peer");
  assert.equal(t.applyDelta("gw-b", "ep1", 2, [["dev-2", e("two", 11)]], 101), "applied");
  assert.equal(t.applyDelta("gw-b", "ep1", 2, [["dev-2", e("two-old", 11)]], 102), "stale");
  assert.equal(t.applyDelta("gw-b", "ep1", 5, [["dev-3", e("three", 12)]], 103), "gap");
  assert.deepEqual(t.summary(), [{ gatewayId: "gw-b", entries: 3, lastHeardAt: 103 }]);
  // A restarted gateway (new epoch): its old entries are void.
  assert.equal(t.applyDelta("gw-b", "ep2", 1, [["dev-9", e("nine", 20)]], 104), "gap");
  assert.deepEqual(t.summary().map((p) => p.entries), [1]);
});

test("heartbeats detect a peer ahead of us; a full state replaces the peer's entries", () => {
  const t = new PresenceTable();
  assert.equal(t.heartbeat("gw-c", "ep", 0, 1), "gap", "never heard");
  t.applyFull("gw-c", "ep", 4, [["a", e("a", 1)], ["b", e("b", 2)]], 10);
  assert.equal(t.heartbeat("gw-c", "ep", 4, 11), "applied");
  assert.equal(t.heartbeat("gw-c", "ep", 6, 12), "gap", "missed deltas 5 and 6");
  assert.equal(t.heartbeat("gw-c", "other", 4, 12), "gap", "restarted");
  const v = t.version;
  assert.equal(t.applyFull("gw-c", "ep", 6, [["c", e("c", 3)]], 13), true);
  assert.ok(t.version > v);
  assert.deepEqual([...t.merge(new Map(), 13, 100)].map((x) => x.host), ["c"]);
  // A periodic full that only refreshes the gateway's own entry is not a change.
  const self = (ts: number): PresenceEntry => ({ host: "h", mode: "gateway", reason: "self", ts });
  assert.equal(t.applyFull("gw-c", "ep", 6, [["c", e("c", 3)], ["gateway:gw-c", self(1)]], 14), true);
  const v2 = t.version;
  assert.equal(t.applyFull("gw-c", "ep", 7, [["c", e("c", 3)], ["gateway:gw-c", self(2)]], 15), false);
  assert.equal(t.version, v2);
  assert.equal(t.applyFull("gw-c", "ep", 7, [["c", e("c", 4)], ["gateway:gw-c", self(2)]], 16), true);
});

test("silent peers expire with their entries", () => {
  const t = new PresenceTable();
  t.applyFull("gw-b", "ep", 0, [["x", e("x", 1)]], 1000);
  t.applyFull("gw-c", "ep", 0, [["y", e("y", 1)]], 1500);
  assert.deepEqual(t.expire(1600, 600), []);
  assert.deepEqual(t.expire(1700, 600), ["gw-b"]);
  assert.deepEqual(t.merge(new Map(), 1700, 10).map((x) => x.host), ["y"]);
});

test("merge: newest ts wins per key, TTL and cap apply, newest first", () => {
  const t = new PresenceTable();
  const now = 10 * PRESENCE_TTL_MS;
  // dev-1 moved from gw-b (disconnect, older) to this gateway (connect, newer) and back.
  t.applyFull("gw-b", "ep", 0, [["dev-1", e("laptop", now - 50, "disconnect")], ["old", e("old", now - PRESENCE_TTL_MS - 1)], ["dev-2", e("phone", now - 10)]], now);
  t.applyFull("gw-c", "ep", 0, [["dev-3", e("tablet", now - 5)]], now);
  const local = new Map<string, PresenceEntry>([["dev-1", e("laptop", now - 20)], ["self", e("gw", now)]]);
  const merged = t.merge(local, now, 10);
  assert.deepEqual(merged.map((x) => `${x.host}:${x.reason}`), ["gw:connect", "tablet:connect", "phone:connect", "laptop:connect"]);
  assert.equal(t.merge(local, now, 2).length, 2);
  // The other way round: the remote entry is newer.
  local.set("dev-1", e("laptop", now - 100));
  assert.equal(t.merge(local, now, 10).find((x) => x.host === "laptop")?.reason, "disconnect");
});

test("the presence store serves the merged list and re-renders when the overlay changes", () => {
  let clock = 1_000_000;
  const store = new PresenceStore(50, "test", () => clock);
  const seen: string[] = [];
  store.onUpsert((k) => seen.push(k));
  store.upsert("Dev-L", { host: "local-one" });
  assert.deepEqual(seen, ["dev-l"]);
  const t = new PresenceTable();
  store.setOverlay(t);
  assert.equal(store.list().length, 2);
  t.applyFull("gw-b", "ep", 0, [["dev-r", e("remote-one", clock - 1)]], clock);
  const json = store.listJson();
  assert.match(json, /remote-one/);
  assert.match(json, /local-one/);
  clock += 10;
  t.expire(clock + 10_000, 1000);
  assert.doesNotMatch(store.listJson(), /remote-one/);
  assert.equal(store.localEntries().size, 2, "the overlay never enters the local entries");
  store.setOverlay(null);
  assert.equal(store.list().length, 2);
});

test("wire: round trip, and malformed messages are dropped", () => {
  const full = { k: "full" as const, gw: "gw-a", ep: "x", sq: 3, e: [["k", e("h", 5)]] as [string, PresenceEntry][] };
  assert.deepEqual(decodePresenceMessage(encodePresenceMessage(full)), full);
  assert.deepEqual(decodePresenceMessage(encodePresenceMessage({ k: "want", gw: "gw-b", to: null })), { k: "want", gw: "gw-b", to: null });
  assert.deepEqual(decodePresenceMessage('{"k":"beat","gw":"g","ep":"e","sq":1}'), { k: "beat", gw: "g", ep: "e", sq: 1 });
  for (const bad of ["nope", "[]", '{"k":"full","gw":"g","ep":"e","sq":1,"e":[["k",{}]]}', '{"k":"delta","gw":"","ep":"e","sq":1,"e":[]}', '{"k":"beat","gw":"g","ep":"e","sq":1.5}', '{"k":"what","gw":"g","ep":"e","sq":1}']) {
    assert.equal(decodePresenceMessage(bad), null, bad);
  }
});
