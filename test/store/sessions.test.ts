import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { GatewayError } from "../../src/shared/errors.js";
import { SessionStore, TranscriptWriter, canonicalSessionKey, capHistory, emptyUsage, messagesOf, readHistory, readTranscript, transcriptTail, HISTORY_MAX_BYTES } from "../../src/shared/store/sessions/index.js";
import type { AssistantMessage, TranscriptMessage, UserMessage } from "../../src/shared/store/sessions/index.js";
import { tempDir } from "../helpers/temp-dir.js";

const user = (text: string): UserMessage => ({ role: "user", content: text, timestamp: 1 });
const assistant = (text: string): AssistantMessage => ({ role: "assistant", content: [{ type: "text", text }], provider: "p", model: "m", usage: emptyUsage(), stopReason: "stop", timestamp: 2 });

test("session keys canonicalise like the reference (§3.10)", () => {
  assert.equal(canonicalSessionKey("main"), "agent:main:main");
  assert.equal(canonicalSessionKey(" foo "), "agent:main:foo");
  assert.equal(canonicalSessionKey("agent:Ops:main", { mainKey: "work" }), "agent:ops:work");
  assert.equal(canonicalSessionKey("work", { mainKey: "work", defaultAgentId: "ops" }), "agent:ops:work");
  assert.equal(canonicalSessionKey("agent:main:subagent:abc"), "agent:main:subagent:abc");
  assert.equal(canonicalSessionKey("main", { scope: "global" }), "global");
  assert.equal(canonicalSessionKey("global"), "global");
  assert.equal(canonicalSessionKey("agent:../x:main"), null);
  assert.equal(canonicalSessionKey("  "), null);
});

test("store: entries persist atomically at agents/<id>/sessions/sessions.json with usage and model", async (t) => {
  const stateDir = tempDir(t);
  let clock = 1000;
  const store = await SessionStore.open({ stateDir, agentId: "main", now: () => clock });
  const { entry, created } = store.resolveForRun("agent:main:main");
  assert.equal(created, true);
  assert.match(entry.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(store.resolveForRun("agent:main:main").entry.sessionId, entry.sessionId);
  clock = 2000;
  store.recordTurn("agent:main:main", { provider: "openai", model: "gpt-x", usage: { input: 10, output: 5, totalTokens: 15 }, contextTokens: 128000 });
  await store.flush();
  const path = join(stateDir, "agents", "main", "sessions", "sessions.json");
  assert.equal(store.path, path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const onDisk = JSON.parse(readFileSync(path, "utf8")) as Record<string, Record<string, unknown>>;
  assert.deepEqual(onDisk["agent:main:main"], {
    sessionId: entry.sessionId, updatedAt: 2000, modelProvider: "openai", model: "gpt-x", abortedLastRun: false, systemSent: true,
    contextTokens: 128000, inputTokens: 10, outputTokens: 5, totalTokens: 15,
  });
  assert.equal(store.transcriptPath(entry), join(stateDir, "agents", "main", "sessions", `${entry.sessionId}.jsonl`));
  await store.close();
  const again = await SessionStore.open({ stateDir, agentId: "main" });
  assert.equal(again.get("agent:main:main")?.model, "gpt-x");
  assert.throws(() => again.resolveForRun("agent:main:x", "../../etc/passwd"), GatewayError);
  await assert.rejects(SessionStore.open({ stateDir, agentId: "../up" }), GatewayError);
  await again.close();
});

test("store: the file is the pretty JSON of the entries after every kind of change (per-entry serialisation)", async (t) => {
  const stateDir = tempDir(t);
  let clock = 1;
  const store = await SessionStore.open({ stateDir, agentId: "main", now: () => clock++ });
  const expectFile = async (): Promise<void> => {
    await store.flush();
    const got = readFileSync(store.path, "utf8");
    assert.deepEqual(JSON.parse(got), JSON.parse(JSON.stringify(Object.fromEntries(store.list()))));
    assert.equal(got, `${JSON.stringify(JSON.parse(got), null, 2)}\n`, "pretty-printed with 2 spaces and a trailing newline");
  };
  for (let i = 0; i < 5; i++) store.resolveForRun(`agent:main:s${i}`);
  await expectFile();
  store.patch("agent:main:s2", { label: "two\nlines \"quoted\"", nested: { a: [1, { b: null }] } });
  await expectFile();
  store.recordTurn("agent:main:s0", { provider: "p", model: "m", usage: { input: 1, output: 2, totalTokens: 3 } });
  store.patch("agent:main:s2", { label: undefined });
  assert.equal(store.get("agent:main:s2")?.label, undefined);
  await expectFile();
  store.delete("agent:main:s1");
  await expectFile();
  for (const [k] of store.list()) store.delete(k);
  await store.flush();
  assert.equal(readFileSync(store.path, "utf8"), "{}\n");
  await store.close();
});

test("store: a corrupt sessions.json is moved aside, not fatal", async (t) => {
  const stateDir = tempDir(t);
  const dir = join(stateDir, "agents", "main", "sessions");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "sessions.json"), "{ not json");
  const store = await SessionStore.open({ stateDir, agentId: "main" });
  assert.equal(store.list().length, 0);
  assert.ok(readdirSync(dir).some((n) => n.startsWith("sessions.json.corrupt-")));
  await store.close();
});

test("transcript: §11.3 layout, one commit per turn, parentId chain survives a torn tail", async (t) => {
  const file = join(tempDir(t), "s1.jsonl");
  const w = await TranscriptWriter.open(file, { sessionId: "s1", cwd: "/ws", now: () => Date.UTC(2026, 0, 1) });
  assert.deepEqual(w.history, []);
  assert.equal(statSync(file).size, 0, "a new transcript's header waits for the first commit");
  const turn1 = await w.appendMessages([user("hi"), assistant("hello")]);
  await w.close();
  const lines = readFileSync(file, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines[0], { type: "session", version: 3, id: "s1", timestamp: "2026-01-01T00:00:00.000Z", cwd: "/ws" });
  assert.equal(lines.length, 3);
  assert.match(String(lines[1]!.id), /^[0-9a-f]{8}$/);
  assert.equal(lines[1]!.parentId, null);
  assert.equal(lines[2]!.parentId, lines[1]!.id);
  assert.deepEqual(lines[2]!.message, assistant("hello"));
  // A crash mid-write leaves a fragment; readers skip it, the next writer cuts it off.
  appendFileSync(file, `{"type":"message","id":"dead`);
  assert.equal((await readTranscript(file)).tornTail, true);
  const w2 = await TranscriptWriter.open(file, { sessionId: "s1", cwd: "/ws" });
  assert.deepEqual(w2.history, [user("hi"), assistant("hello")]);
  const [e3] = await w2.appendMessages([user("again")]);
  await w2.close();
  assert.equal(e3!.parentId, turn1[1]!.id);
  const read = await readTranscript(file);
  assert.equal(read.tornTail, false);
  assert.equal(read.skipped, 0);
  assert.deepEqual(await readHistory(file), [user("hi"), assistant("hello"), user("again")]);
});

test("transcript tail: the last entry id read from the file's end, across chunk boundaries, torn and malformed lines; openForAppend continues the chain", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "s2.jsonl");
  assert.deepEqual(await transcriptTail(file), { empty: true, lastId: null }, "missing file");
  writeFileSync(file, "");
  assert.deepEqual(await transcriptTail(file), { empty: true, lastId: null }, "empty file");
  const w = await TranscriptWriter.open(file, { sessionId: "s2", cwd: "/ws" });
  assert.deepEqual(await transcriptTail(file), { empty: true, lastId: null }, "header not written before the first commit");
  // Messages larger than the 64 KiB read chunk put line breaks on both sides of chunk edges.
  const entries = await w.appendMessages([user("a".repeat(70_000)), assistant("b".repeat(130_000)), user("c")]);
  await w.close();
  assert.deepEqual(await transcriptTail(file), { empty: false, lastId: entries[2]!.id });
  appendFileSync(file, `not json\n{"type":"message","id":"torn`);
  assert.deepEqual(await transcriptTail(file), { empty: false, lastId: entries[2]!.id }, "malformed line and torn tail skipped");
  const w2 = await TranscriptWriter.openForAppend(file, { sessionId: "s2", cwd: "/ws" });
  assert.deepEqual(w2.history, []);
  const [e4] = await w2.appendMessages([assistant("mirrored")]);
  await w2.close();
  assert.equal(e4!.parentId, entries[2]!.id);
  const read = await readTranscript(file);
  assert.equal(read.tornTail, false);
  assert.deepEqual(messagesOf(read.entries).slice(-1), [assistant("mirrored")]);
  // Only a header: not empty, no entry to chain to.
  const only = join(dir, "s3.jsonl");
  const w3 = await TranscriptWriter.openForAppend(only, { sessionId: "s3", cwd: "/ws" });
  await w3.appendMessages([]);
  await w3.close();
  assert.deepEqual(await transcriptTail(only), { empty: false, lastId: null });
});

test("history: last `limit` messages (default 200, max 1000), then the 6 MiB budget trims the oldest", () => {
  const many: TranscriptMessage[] = Array.from({ length: 1200 }, (_, i) => user(`m${i}`));
  assert.equal(capHistory(many).length, 200);
  assert.equal(capHistory(many, { limit: 5000 }).length, 1000);
  assert.deepEqual(capHistory(many, { limit: 2 }), [user("m1198"), user("m1199")]);
  const big = Array.from({ length: 8 }, (_, i) => user(`${i}`.padEnd(1024 * 1024, "x")));
  const kept = capHistory(big);
  assert.ok(Buffer.byteLength(JSON.stringify(kept)) <= HISTORY_MAX_BYTES);
  assert.ok(Buffer.byteLength(JSON.stringify(big.slice(-(kept.length + 1)))) > HISTORY_MAX_BYTES, "dropped more than needed");
  assert.equal((kept[kept.length - 1]!.content as string)[0], "7");
  const exact = [user("a"), user("b")];
  assert.deepEqual(capHistory(exact, { maxBytes: Buffer.byteLength(JSON.stringify(exact)) }), exact);
  assert.deepEqual(capHistory(exact, { maxBytes: Buffer.byteLength(JSON.stringify(exact)) - 1 }), [user("b")]);
});
