/**
 * `POST /v1/chat/completions` (§7.4) and `POST /v1/responses` (§7.5) on the gateway port,
 * mounted at their §7.1 stages and enabled per request from
 * `gateway.http.endpoints.{chatCompletions,responses}.enabled` (off by default; a disabled
 * endpoint claims nothing, so the request falls through to 404/405).
 *
 * Bearer auth like the WS shared auth (401 `{"error":{"message":"Unauthorized",…}}`), bounded
 * bodies (1 MiB / 20 MiB → 400 `invalid_request_error`), non-POST → 405 `Allow: POST` (the
 * mount table). Streaming goes through `SseStream` (backpressure via `onWritable`, bounded
 * queue); the client going away aborts the run (`onAborted` → `runtime.abort`).
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { GatewayError } from "../../shared/errors.js";
import { requireBearer } from "../http/bearer-auth.js";
import type { HttpMountTable } from "../http/mount-table.js";
import { HttpBodyError, readBody } from "../http/read-body.js";
import { endOnce, trackResponse } from "../http/response-state.js";
import { SseStream } from "../http/sse-stream.js";
import type { LiveOptions } from "../gateway-context.js";
import type { AgentEvent } from "../../workers/agent/agent-events.js";
import type { AgentRuntime, RunOutcome } from "./agent-runtime.js";
import { buildPrompt, contentText, selectAgent, selectSession } from "./openai-prompt.js";
import type { PromptEntry } from "./openai-prompt.js";

const CHAT_MAX_BODY = 1024 * 1024;
const RESPONSES_MAX_BODY = 20 * 1024 * 1024;
const JSON_CT = { "Content-Type": "application/json; charset=utf-8" };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function sendJson(res: HttpResponse, status: string, body: unknown): void {
  endOnce(res, trackResponse(res), status, JSON_CT, JSON.stringify(body));
}

function badRequest(res: HttpResponse, message: string): void {
  sendJson(res, "400 Bad Request", { error: { message, type: "invalid_request_error" } });
}

interface Prepared {
  body: Record<string, unknown>;
  agentHeader: string;
  sessionHeader: string;
}

/** Auth, headers and body; null when the request was answered (401/400/abort). */
async function prepare(res: HttpResponse, req: HttpRequest, live: LiveOptions, maxBytes: number): Promise<Prepared | null> {
  if (!requireBearer(res, req, { expect: () => ({ auth: live.current.auth }) })) return null;
  const agentHeader = req.getHeader("x-clawdbot-agent-id") || req.getHeader("x-clawdbot-agent");
  const sessionHeader = req.getHeader("x-clawdbot-session-key");
  let raw: Buffer;
  try {
    raw = await readBody(res, req, { maxBytes, tooLarge: { status: "400 Bad Request", contentType: JSON_CT["Content-Type"], body: JSON.stringify({ error: { message: `request body over ${maxBytes} bytes`, type: "invalid_request_error" } }) } });
  } catch (err) {
    if (err instanceof HttpBodyError) return null;
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    badRequest(res, "invalid JSON body");
    return null;
  }
  if (!isObj(body)) {
    badRequest(res, "request body must be a JSON object");
    return null;
  }
  return { body, agentHeader, sessionHeader };
}

function asGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", err instanceof Error ? err.message : String(err));
}

const nowS = (): number => Math.floor(Date.now() / 1000);

/** Mounts both endpoints. */
export function mountOpenAiHttp(http: HttpMountTable, runtime: AgentRuntime, live: LiveOptions): void {
  http.mount({
    stage: "chat-completions",
    path: { exact: "/v1/chat/completions" },
    methods: ["POST"],
    enabled: () => live.current.httpEndpoints?.chatCompletions === true,
    handler: (res, req) => chatCompletions(res, req, runtime, live),
  });
  http.mount({
    stage: "responses",
    path: { exact: "/v1/responses" },
    methods: ["POST"],
    enabled: () => live.current.httpEndpoints?.responses === true,
    handler: (res, req) => responses(res, req, runtime, live),
  });
}

async function chatCompletions(res: HttpResponse, req: HttpRequest, runtime: AgentRuntime, live: LiveOptions): Promise<void> {
  const state = trackResponse(res);
  const prep = await prepare(res, req, live, CHAT_MAX_BODY);
  if (prep === null) return;
  const { body } = prep;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const entries: PromptEntry[] = messages.filter(isObj).map((m) => ({ role: String(m.role ?? ""), text: contentText(m.content ?? m.input_text), name: typeof m.name === "string" ? m.name : undefined }));
  const prompt = buildPrompt(entries);
  if (prompt === null) return badRequest(res, "Missing user message in `messages`.");
  const model = typeof body.model === "string" ? body.model : "clawdbot";
  const agentId = selectAgent(prep.agentHeader, body.model);
  const runId = `chatcmpl_${randomUUID()}`;
  const sessionKey = selectSession(prep.sessionHeader, agentId, "openai", body.user, randomUUID());
  const created = nowS();
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    JSON.stringify({ id: runId, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  let sse: SseStream | null = null;
  let streamed = false;
  const onEvent = (ev: AgentEvent): void => {
    if (sse === null || ev.stream !== "assistant") return;
    const delta = typeof ev.data.delta === "string" ? ev.data.delta : typeof ev.data.text === "string" ? ev.data.text : "";
    if (delta === "") return;
    if (!streamed) sse.send(chunk({ role: "assistant" }));
    streamed = true;
    sse.send(chunk({ content: delta }));
  };
  if (state.aborted) return;
  if (body.stream === true) sse = new SseStream(res, { onCancel: () => runtime.abort(runId, "client") });
  let outcome: RunOutcome;
  try {
    const started = await runtime.start({ runId, message: prompt.message, extraSystemPrompt: prompt.extraSystemPrompt, sessionKey, agentId, onEvent });
    if (sse === null) state.signal.addEventListener("abort", () => runtime.abort(runId, "client"), { once: true });
    outcome = await started.done;
  } catch (err) {
    outcome = { runId, sessionKey, sessionId: "", status: "error", text: "", startedAt: 0, endedAt: 0, error: asGatewayError(err) };
  }
  const errorText = outcome.status === "error" ? (outcome.error?.message ?? "agent run failed") : undefined;
  if (sse !== null) {
    if (errorText !== undefined) {
      if (!streamed) sse.send(chunk({ role: "assistant" }));
      sse.send(chunk({ content: `Error: ${errorText}` }, "stop"));
    } else if (!streamed && outcome.text !== "") {
      sse.send(chunk({ role: "assistant" }));
      sse.send(chunk({ content: outcome.text }));
    }
    sse.sendRaw("data: [DONE]\n\n");
    sse.end();
    return;
  }
  if (errorText !== undefined) return sendJson(res, "500 Internal Server Error", { error: { message: errorText, type: "api_error" } });
  sendJson(res, "200 OK", {
    id: runId,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: outcome.text !== "" ? outcome.text : "No response from Clawdbot." }, finish_reason: "stop" }],
    usage: { prompt_tokens: outcome.usage?.input ?? 0, completion_tokens: outcome.usage?.output ?? 0, total_tokens: (outcome.usage?.input ?? 0) + (outcome.usage?.output ?? 0) },
  });
}

const RESPONSES_KEYS = new Set(["model", "input", "instructions", "tools", "tool_choice", "stream", "max_output_tokens", "max_tool_calls", "user", "temperature", "top_p", "metadata", "store", "previous_response_id", "reasoning", "truncation"]);

function responsesEntries(input: unknown): PromptEntry[] | string {
  if (typeof input === "string") return [{ role: "user", text: input }];
  if (!Array.isArray(input)) return "input: expected string or array";
  const out: PromptEntry[] = [];
  for (const [i, item] of input.entries()) {
    if (!isObj(item)) return `input.${i}: expected object`;
    const type = item.type ?? "message";
    if (type === "message") out.push({ role: String(item.role ?? ""), text: contentText(item.content) });
    else if (type === "function_call_output") out.push({ role: "tool", name: String(item.call_id ?? "tool"), text: typeof item.output === "string" ? item.output : JSON.stringify(item.output) });
  }
  return out;
}

async function responses(res: HttpResponse, req: HttpRequest, runtime: AgentRuntime, live: LiveOptions): Promise<void> {
  const state = trackResponse(res);
  const prep = await prepare(res, req, live, live.current.httpEndpoints?.responsesMaxBodyBytes ?? RESPONSES_MAX_BODY);
  if (prep === null) return;
  const { body } = prep;
  const unknown = Object.keys(body).find((k) => !RESPONSES_KEYS.has(k));
  if (unknown !== undefined) return badRequest(res, `${unknown}: unrecognized key`);
  if (typeof body.model !== "string") return badRequest(res, "model: Required");
  if (body.input === undefined) return badRequest(res, "input: Required");
  const entries = responsesEntries(body.input);
  if (typeof entries === "string") return badRequest(res, entries);
  const prompt = buildPrompt(entries);
  if (prompt === null) return badRequest(res, "Missing user message in `input`.");
  const extra = [typeof body.instructions === "string" ? body.instructions : "", prompt.extraSystemPrompt ?? ""].filter((s) => s !== "").join("\n\n");
  const model = body.model;
  const agentId = selectAgent(prep.agentHeader, model);
  const runId = `resp_${randomUUID()}`;
  const itemId = `msg_${randomUUID()}`;
  const sessionKey = selectSession(prep.sessionHeader, agentId, "openresponses", body.user, randomUUID());
  const createdAt = nowS();
  const resource = (status: string, text: string | null, o?: RunOutcome): Record<string, unknown> => {
    const r: Record<string, unknown> = { id: runId, object: "response", created_at: createdAt, status, model, output: text === null ? [] : [{ type: "message", id: itemId, role: "assistant", content: [{ type: "output_text", text }], status: "completed" }], usage: { input_tokens: o?.usage?.input ?? 0, output_tokens: o?.usage?.output ?? 0, total_tokens: (o?.usage?.input ?? 0) + (o?.usage?.output ?? 0) } };
    if (status === "failed") r.error = { code: "api_error", message: o?.error?.message ?? "agent run failed" };
    return r;
  };
  let sse: SseStream | null = null;
  const send = (type: string, data: Record<string, unknown>): void => void sse?.send(JSON.stringify({ type, ...data }), type);
  const onEvent = (ev: AgentEvent): void => {
    if (ev.stream === "assistant" && typeof ev.data.delta === "string" && ev.data.delta !== "") send("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta: ev.data.delta });
  };
  if (state.aborted) return;
  if (body.stream === true) {
    sse = new SseStream(res, { onCancel: () => runtime.abort(runId, "client") });
    send("response.created", { response: resource("in_progress", null) });
    send("response.in_progress", { response: resource("in_progress", null) });
    send("response.output_item.added", { output_index: 0, item: { type: "message", id: itemId, role: "assistant", content: [], status: "in_progress" } });
    send("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: { type: "output_text", text: "" } });
  }
  let outcome: RunOutcome;
  try {
    const started = await runtime.start({ runId, message: prompt.message, extraSystemPrompt: extra !== "" ? extra : undefined, sessionKey, agentId, onEvent });
    if (sse === null) state.signal.addEventListener("abort", () => runtime.abort(runId, "client"), { once: true });
    outcome = await started.done;
  } catch (err) {
    outcome = { runId, sessionKey, sessionId: "", status: "error", text: "", startedAt: 0, endedAt: 0, error: asGatewayError(err) };
  }
  const failed = outcome.status === "error";
  if (sse !== null) {
    if (failed) send("response.failed", { response: resource("failed", null, outcome) });
    else {
      send("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text: outcome.text });
      send("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part: { type: "output_text", text: outcome.text } });
      send("response.output_item.done", { output_index: 0, item: { type: "message", id: itemId, role: "assistant", content: [{ type: "output_text", text: outcome.text }], status: "completed" } });
      send("response.completed", { response: resource("completed", outcome.text, outcome) });
    }
    sse.sendRaw("data: [DONE]\n\n");
    sse.end();
    return;
  }
  if (failed) return sendJson(res, "500 Internal Server Error", resource("failed", null, outcome));
  sendJson(res, "200 OK", resource("completed", outcome.text, outcome));
}
