/** `agent`, `agent.wait`, `chat.*` through a real gateway, pool threads and a loopback provider. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { agentEvents, agentTwoStage, chatEvents, startAgentGateway } from "./helpers/agent-gateway.js";
import type { AgentGateway } from "./helpers/agent-gateway.js";

let h: AgentGateway;
before(async () => {
  h = await startAgentGateway();
});
after(async () => {
  await h?.close();
});

test("agent: ack then final on the same id; events seq 1..n; chat final; dedupe replays from a new connection; agent.wait before and after", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  h.openai.script("gpt-a", { type: "text", text: ["Hel", "lo ", "there"], delayMs: 20 });
  const c = await h.connect();
  const waitBefore = c.request("agent.wait", { runId: "run-1", timeoutMs: 15_000 }, 20_000);
  const [ack, final] = await agentTwoStage(c, { message: "hi", sessionKey: "main", idempotencyKey: "run-1" });
  assert.equal(ack.ok, true);
  assert.equal(ack.payload.runId, "run-1");
  assert.equal(ack.payload.status, "accepted");
  assert.equal(typeof ack.payload.acceptedAt, "number");
  assert.equal(final.ok, true, JSON.stringify(final));
  assert.equal(final.payload.status, "ok");
  assert.equal(final.payload.summary, "completed");
  assert.deepEqual(final.payload.result.payloads, [{ text: "Hello there", mediaUrl: null }]);
  assert.equal(final.payload.result.meta.agentMeta.provider, "oa");

  const evs = agentEvents(c, "run-1");
  assert.deepEqual(evs.map((e) => e.seq), evs.map((_, i) => i + 1));
  assert.equal(evs[0].stream, "lifecycle");
  assert.equal(evs[0].data.phase, "start");
  assert.equal(evs.at(-1).data.phase, "end");
  assert.equal(evs[0].sessionKey, "main");
  assert.ok(evs.some((e) => e.stream === "assistant" && e.data.text === "Hello there"));
  const chats = chatEvents(c, "run-1");
  const fin = chats.find((p) => p.state === "final");
  assert.ok(fin, JSON.stringify(chats));
  assert.equal(fin.sessionKey, "main");
  assert.equal(fin.message.content[0].text, "Hello there");
  assert.equal(fin.seq, evs.at(-1).seq);
  // the final res comes after the stream's end
  const endIdx = c.frames.findIndex((f) => f.event === "agent" && f.payload?.runId === "run-1" && f.payload.data?.phase === "end");
  assert.ok(endIdx >= 0 && endIdx < c.frames.indexOf(final));

  const wb = await waitBefore;
  assert.equal(wb.payload.status, "ok");
  assert.equal(typeof wb.payload.startedAt, "number");
  assert.equal(typeof wb.payload.endedAt, "number");
  const wa = await c.request("agent.wait", { runId: "run-1", timeoutMs: 0 });
  assert.deepEqual(wa.payload, wb.payload);
  const wUnknown = await c.request("agent.wait", { runId: "nope", timeoutMs: 0 });
  assert.deepEqual(wUnknown.payload, { runId: "nope", status: "timeout" });

  // Same idempotencyKey from another connection: the cached final, once, no new run.
  const calls = h.openai.requests.length;
  const c2 = await h.connect();
  const replay = await c2.request("agent", { message: "hi", sessionKey: "main", idempotencyKey: "run-1" });
  assert.deepEqual(replay.payload, final.payload);
  assert.equal(h.openai.requests.length, calls);

  // chat.history right after the final contains the turn; the transcript is valid JSONL.
  const hist = await c.request("chat.history", { sessionKey: "main" });
  assert.equal(hist.ok, true);
  const msgs = hist.payload.messages;
  assert.deepEqual(msgs.map((m: { role: string }) => m.role), ["user", "assistant"]);
  assert.equal(msgs[1].content[0].text, "Hello there");
  const file = join(h.gw.stateDir, "agents", "main", "sessions", `${hist.payload.sessionId}.jsonl`);
  const lines = (await readFile(file, "utf8")).split("\n");
  assert.equal(lines.at(-1), "");
  for (const l of lines.slice(0, -1)) JSON.parse(l);
  const store = JSON.parse(await readFile(join(h.gw.stateDir, "agents", "main", "sessions", "sessions.json"), "utf8"));
  assert.equal(store["agent:main:main"].model, "gpt-a");
});

test("chat.send: started, deltas throttled to ≥150 ms with the full text so far, final; /stop aborts mid-stream", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  const pieces = Array.from({ length: 16 }, (_, i) => `w${i} `);
  h.openai.script("gpt-a", { type: "text", text: pieces, delayMs: 40 });
  const c = await h.connect();
  const r = await c.request("chat.send", { sessionKey: "agent:main:chat1", message: "go", idempotencyKey: "c-1" });
  assert.deepEqual(r.payload, { runId: "c-1", status: "started" });
  const fin = await c.next((f) => f.event === "chat" && f.payload?.runId === "c-1" && f.payload.state === "final", 15_000);
  const deltas = chatEvents(c, "c-1").filter((p) => p.state === "delta");
  assert.ok(deltas.length >= 2 && deltas.length < pieces.length, `deltas: ${deltas.length}`);
  for (let i = 1; i < deltas.length; i++) {
    assert.ok(deltas[i].message.timestamp - deltas[i - 1].message.timestamp >= 150, "deltas closer than 150 ms");
    assert.ok(deltas[i].message.content[0].text.startsWith(deltas[i - 1].message.content[0].text));
  }
  assert.equal(fin.payload.message.content[0].text, pieces.join("").trim());
  // replay of a finished chat.send
  const again = await c.request("chat.send", { sessionKey: "agent:main:chat1", message: "go", idempotencyKey: "c-1" });
  assert.deepEqual(again.payload, { runId: "c-1", status: "ok" });

  // /stop mid-stream
  h.openai.script("gpt-a", { type: "text", text: pieces, delayMs: 100 });
  await c.request("chat.send", { sessionKey: "agent:main:chat1", message: "again", idempotencyKey: "c-2" });
  await c.next((f) => f.event === "agent" && f.payload?.runId === "c-2" && f.payload.stream === "assistant", 15_000);
  const stop = await c.request("chat.send", { sessionKey: "agent:main:chat1", message: "/stop", idempotencyKey: "c-3" });
  assert.deepEqual(stop.payload, { ok: true, aborted: true, runIds: ["c-2"] });
  const ab = await c.next((f) => f.event === "chat" && f.payload?.runId === "c-2" && f.payload.state === "aborted");
  assert.equal(ab.payload.stopReason, "stop");
  const w = await c.request("agent.wait", { runId: "c-2", timeoutMs: 15_000 }, 20_000);
  assert.equal(w.payload.status, "ok");
  assert.equal(chatEvents(c, "c-2").some((p) => p.state === "final"), false);
});

test("per-session serialisation: concurrent sends on one session run one at a time, in order; other sessions run alongside", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  h.openai.script("gpt-a", ...Array.from({ length: 4 }, () => ({ type: "text" as const, text: ["a", "b", "c"], delayMs: 60 })));
  const c = await h.connect();
  const ids = ["s-1", "s-2", "s-3"];
  await Promise.all(ids.map((id) => c.request("chat.send", { sessionKey: "agent:main:serial", message: id, idempotencyKey: id })));
  await c.request("chat.send", { sessionKey: "agent:main:other", message: "o", idempotencyKey: "o-1" });
  for (const id of [...ids, "o-1"]) await c.next((f) => f.event === "chat" && f.payload?.runId === id && f.payload.state === "final", 20_000);
  const span = (id: string): [number, number] => {
    const evs = agentEvents(c, id);
    return [evs[0].data.startedAt, evs.at(-1).data.endedAt];
  };
  const spans = ids.map(span);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], `run ${ids[i]} started before ${ids[i - 1]} ended`);
  const other = span("o-1");
  assert.ok(other[0] < spans[2]![0], "another session's run waited for this session's queue");
  const hist = await c.request("chat.history", { sessionKey: "agent:main:serial" });
  assert.deepEqual(hist.payload.messages.filter((m: { role: string }) => m.role === "user").map((m: { content: unknown }) => (typeof m.content === "string" ? m.content : (m.content as { text: string }[])[0]!.text)), ids);
});

test("agent: MEDIA: lines of the reply become the payload's mediaUrl/mediaUrls and leave its text", async () => {
  h.setConfig({ defaults: { model: "oa/gpt-a" } });
  h.openai.script("gpt-a", { type: "text", text: "Here you go\nMEDIA:https://cdn.example/a.png\nMEDIA:https://cdn.example/b.pdf" });
  const c = await h.connect();
  const [, final] = await agentTwoStage(c, { message: "files please", sessionKey: "media-run", idempotencyKey: "run-media-1" });
  assert.equal(final.payload.status, "ok", JSON.stringify(final));
  assert.deepEqual(final.payload.result.payloads, [{ text: "Here you go", mediaUrl: "https://cdn.example/a.png", mediaUrls: ["https://cdn.example/a.png", "https://cdn.example/b.pdf"] }]);
});
