/** Node directory keys and records (src/main/cluster/node-directory-entry.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { directoryKey, parseDirectoryRecord } from "../../src/main/cluster/node-directory-entry.js";

test("node ids become valid KV keys without collisions", () => {
  const hex = "cac7a6dd7c19f47087fcbb5b11691c549935749e955c913c1f35993924a8ca8b";
  assert.equal(directoryKey(hex), hex, "device ids are used as they are");
  assert.equal(directoryKey("node-host_1"), "node-host_1");
  const odd = ["my node", "a.b", "x/y", "ü", "*", ">", "a".repeat(201)];
  const keys = odd.map(directoryKey);
  for (const k of keys) assert.match(k, /^b64\.[A-Za-z0-9_-]+$/, "anything else is base64url under a prefix with a dot");
  assert.equal(new Set(keys).size, odd.length);
  assert.equal(Buffer.from(directoryKey("a.b").slice(4), "base64url").toString("utf8"), "a.b");
});

test("records parse only when they have the fields a lookup needs", () => {
  const ok = { nodeId: "n", gw: "gw-a", since: 1, info: { caps: [], commands: [], connectedAtMs: 1 }, paired: false };
  assert.deepEqual(parseDirectoryRecord(JSON.stringify(ok)), ok);
  assert.equal(parseDirectoryRecord("not json"), null);
  assert.equal(parseDirectoryRecord("null"), null);
  assert.equal(parseDirectoryRecord(JSON.stringify({ ...ok, gw: 3 })), null);
  assert.equal(parseDirectoryRecord(JSON.stringify({ ...ok, info: null })), null);
});
