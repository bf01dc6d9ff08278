/** The inbound queue and outbox on the append log: replay after reopen, dedupe, at-most-once sends. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InboundQueue } from "../../src/shared/store/inbound-queue.js";
import { Outbox } from "../../src/shared/store/outbox.js";
import { chunkText } from "../../src/main/channels/chunk-text.js";

async function tempDir(t: import("node:test").TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-chstore-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("inbound queue: undelivered entries are replayed after reopen, finished ones are not, ids dedupe", async (t) => {
  const file = join(await tempDir(t), "inbound.jsonl");
  const q = await InboundQueue.open<{ text: string }>(file);
  assert.equal(await q.accept("a", { text: "1" }), true);
  assert.equal(await q.accept("b", { text: "2" }), true);
  assert.equal(await q.accept("c", { text: "3" }), true);
  assert.equal(await q.accept("a", { text: "1 again" }), false);
  await q.markHandled("a", "reply-a");
  await q.markDone("a");
  await q.markHandled("b", "reply-b");
  await q.close();
  const q2 = await InboundQueue.open<{ text: string }>(file);
  t.after(() => q2.close());
  const pending = q2.pending();
  assert.deepEqual(pending.map((p) => [p.id, p.handled?.reply ?? null]), [["b", "reply-b"], ["c", null]]);
  assert.equal(await q2.accept("a", { text: "redelivered" }), false, "finished ids still dedupe");
  assert.equal(await q2.accept("c", { text: "redelivered" }), false);
});

test("outbox: a key runs once in flight and after completion; a send interrupted by a crash is never resent", async (t) => {
  const file = join(await tempDir(t), "outbox.jsonl");
  const ob = await Outbox.open(file);
  let sends = 0;
  const send = async () => ({ n: ++sends });
  const [a, b] = await Promise.all([ob.run("k", send), ob.run("k", send)]);
  assert.deepEqual(a, { n: 1 });
  assert.deepEqual(b, { n: 1 });
  assert.deepEqual(await ob.run("k", send), { n: 1 });
  await ob.close();
  // A crash between the outbox record and the outcome leaves a lone pending record.
  await appendFile(file, `${JSON.stringify({ key: "lost", state: "pending", ts: 1 })}\n`);
  const ob2 = await Outbox.open(file);
  t.after(() => ob2.close());
  assert.deepEqual(await ob2.run("k", send), { n: 1 });
  await assert.rejects(ob2.run("lost", send), /outcome is unknown/);
  assert.equal(sends, 1);
});

test("chunkText splits at breaks under the limit and keeps all text", () => {
  const text = `${"x".repeat(30)}\n\n${"y".repeat(30)} ${"z".repeat(50)}`;
  const chunks = chunkText(text, 40);
  assert.ok(chunks.every((c) => c.length <= 40));
  assert.equal(chunks.join("").replace(/\s/g, ""), text.replace(/\s/g, ""));
  assert.deepEqual(chunkText("   ", 10), []);
});
