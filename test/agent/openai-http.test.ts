/** `/v1/chat/completions` and `/v1/responses` with the official `openai` SDK as the client, plus raw 401/405/400. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startAgentGateway } from "./helpers/agent-gateway.js";
import type { AgentGateway } from "./helpers/agent-gateway.js";
import { httpRequest } from "../helpers/http-request.js";
import { TEST_TOKEN } from "../helpers/gateway.js";

let h: AgentGateway;
let sdk: OpenAI;
before(async () => {
  h = await startAgentGateway();
  sdk = new OpenAI({ apiKey: TEST_TOKEN, baseURL: `http://127.0.0.1:${h.gw.port}/v1`, maxRetries: 0, timeout: 20_000 });
});
after(async () => {
  await h?.close();
});

function endpoints(chatCompletions: boolean, responses: boolean): void {
  h.gw.server.ctx.options = { ...h.gw.server.ctx.options, httpEndpoints: { chatCompletions, responses } };
}

const auth = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };

test("off by default: the endpoints claim nothing", async () => {
  endpoints(false, false);
  const r = await httpRequest(h.gw.port, "POST", "/v1/chat/completions", { headers: auth, body: "{}" });
  assert.notEqual(r.status, 200);
  assert.notEqual(r.status, 401);
});

test("chat completions: non-streaming and streaming through the openai SDK; session from `user`", async () => {
  endpoints(true, false);
  h.openai.script("gpt-a", { type: "text", text: "plain answer" });
  const res = await sdk.chat.completions.create({ model: "clawdbot", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }], user: "u1" });
  assert.equal(res.object, "chat.completion");
  assert.match(res.id, /^chatcmpl_/);
  assert.equal(res.choices[0]!.message.content, "plain answer");
  assert.equal(res.model, "clawdbot");
  const sys = h.openai.requests.at(-1)!.body.messages as { role: string; content: string }[];
  assert.ok(sys[0]!.content.includes("be brief"), "system message reached the model");

  h.openai.script("gpt-a", { type: "text", text: ["str", "eam", "ed"], delayMs: 10 });
  const stream = await sdk.chat.completions.create({ model: "clawdbot", stream: true, messages: [{ role: "user", content: "again" }], user: "u1" });
  let text = "";
  let roleSeen = false;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.role === "assistant") roleSeen = true;
    text += chunk.choices[0]?.delta.content ?? "";
  }
  assert.equal(text, "streamed");
  assert.ok(roleSeen);
  // Same `user` → same session: the second call saw the first turn.
  const msgs = h.openai.requests.at(-1)!.body.messages as { role: string }[];
  assert.ok(msgs.filter((m) => m.role === "user").length >= 2);
});

test("raw: 401 without the token, 405 on GET, 400 on bad JSON, on an oversize body and without a user message", async () => {
  endpoints(true, true);
  const u = await httpRequest(h.gw.port, "POST", "/v1/chat/completions", { headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(u.status, 401);
  assert.deepEqual(JSON.parse(u.body), { error: { message: "Unauthorized", type: "unauthorized" } });
  const m = await httpRequest(h.gw.port, "GET", "/v1/chat/completions", { headers: auth });
  assert.equal(m.status, 405);
  assert.equal(m.headers.allow, "POST");
  const j = await httpRequest(h.gw.port, "POST", "/v1/chat/completions", { headers: auth, body: "{nope" });
  assert.equal(j.status, 400);
  assert.equal(JSON.parse(j.body).error.type, "invalid_request_error");
  const big = await httpRequest(h.gw.port, "POST", "/v1/chat/completions", { headers: auth, body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] }) });
  assert.equal(big.status, 400);
  const none = await httpRequest(h.gw.port, "POST", "/v1/chat/completions", { headers: auth, body: JSON.stringify({ messages: [{ role: "system", content: "s" }] }) });
  assert.equal(none.status, 400);
  assert.equal(JSON.parse(none.body).error.message, "Missing user message in `messages`.");
  const strict = await httpRequest(h.gw.port, "POST", "/v1/responses", { headers: auth, body: JSON.stringify({ model: "m", input: "x", bogus: 1 }) });
  assert.equal(strict.status, 400);
  const r401 = await httpRequest(h.gw.port, "POST", "/v1/responses", { headers: { authorization: "Bearer wrong" }, body: "{}" });
  assert.equal(r401.status, 401);
});

test("responses: non-streaming and streaming through the openai SDK", async () => {
  endpoints(false, true);
  h.openai.script("gpt-a", { type: "text", text: "resp text" });
  const r = await sdk.responses.create({ model: "clawdbot", input: "hello", instructions: "short" });
  assert.equal(r.status, "completed");
  assert.equal(r.output_text, "resp text");
  h.openai.script("gpt-a", { type: "text", text: ["a", "b", "c"], delayMs: 10 });
  const stream = await sdk.responses.create({ model: "clawdbot", input: [{ type: "message", role: "user", content: "go" }], stream: true });
  const types: string[] = [];
  let deltas = "";
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "response.output_text.delta") deltas += ev.delta;
  }
  assert.equal(deltas, "abc");
  assert.equal(types[0], "response.created");
  assert.equal(types.at(-1), "response.completed");
});

test("a streaming client that goes away cancels its run", async () => {
  endpoints(true, false);
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "text", text: Array.from({ length: 30 }, () => "s"), delayMs: 100 });
  const ac = new AbortController();
  const stream = await sdk.chat.completions.create({ model: "clawdbot", stream: true, messages: [{ role: "user", content: "long" }] }, { signal: ac.signal });
  const it = stream[Symbol.asyncIterator]();
  await it.next();
  await it.next();
  ac.abort();
  const end = await c.next((f) => f.event === "agent" && typeof f.payload?.runId === "string" && f.payload.runId.startsWith("chatcmpl_") && f.payload.data?.phase === "end", 15_000);
  assert.equal(end.payload.data.aborted, true);
  const aborted = await c.next((f) => f.event === "chat" && f.payload?.runId === end.payload.runId && f.payload.state === "aborted");
  assert.equal(aborted.payload.stopReason, "client");
});
