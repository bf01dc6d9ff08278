/**
 * Loopback fake of Anthropic `POST /v1/messages`, speaking the real wire format: SSE
 * `message_start`, `content_block_start` (thinking / text / tool_use), `ping`,
 * `content_block_delta` (`thinking_delta` + `signature_delta`, `text_delta`,
 * `input_json_delta` split across chunks), `content_block_stop`,
 * `message_delta` (stop_reason + usage), `message_stop`; a `message` JSON object when
 * `stream` is off; `{"type":"error","error":{type,message}}` bodies on errors.
 */
import type { ServerResponse } from "node:http";
import { FakeProvider, chunksOf, pause } from "./fake-http.js";
import type { StepWriter } from "./fake-http.js";

let counter = 0;

function event(res: ServerResponse, name: string, data: Record<string, unknown>): void {
  res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);
}

const writeStep: StepWriter = async (step, req, res, alive) => {
  const id = `msg_fake${++counter}`;
  const model = String(req.body.model);
  const delay = step.delayMs ?? 0;
  const text = step.type === "text" ? (Array.isArray(step.text) ? step.text.join("") : step.text) : (step.text ?? "");
  const calls = step.type === "tools" ? step.calls.map((c, i) => ({ id: c.id ?? `toolu_${counter}_${i}`, name: c.name, args: c.args })) : [];
  const usage = step.type === "text" && step.usage ? step.usage : { input: 13, output: 9 };
  const stopReason = calls.length > 0 ? "tool_use" : "end_turn";
  if (req.body.stream !== true) {
    const content: Record<string, unknown>[] = [];
    if (step.thinking !== undefined) content.push({ type: "thinking", thinking: step.thinking, signature: `sig:${step.thinking}` });
    if (text !== "") content.push({ type: "text", text });
    for (const c of calls) content.push({ type: "tool_use", id: c.id, name: c.name, input: c.args });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: usage.output } }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  event(res, "message_start", {
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } },
  });
  let index = 0;
  if (step.thinking !== undefined) {
    event(res, "content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
    for (const piece of chunksOf(step.thinking, 4)) event(res, "content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
    event(res, "content_block_delta", { index, delta: { type: "signature_delta", signature: `sig:${step.thinking}` } });
    event(res, "content_block_stop", { index });
    index++;
  }
  if (text !== "" || calls.length === 0) {
    event(res, "content_block_start", { index, content_block: { type: "text", text: "" } });
    event(res, "ping", {});
    const pieces = step.type === "text" && Array.isArray(step.text) ? step.text : chunksOf(text);
    for (const piece of pieces) {
      await pause(delay);
      if (!alive()) return;
      event(res, "content_block_delta", { index, delta: { type: "text_delta", text: piece } });
    }
    event(res, "content_block_stop", { index });
    index++;
  }
  for (const c of calls) {
    await pause(delay);
    if (!alive()) return;
    event(res, "content_block_start", { index, content_block: { type: "tool_use", id: c.id, name: c.name, input: {} } });
    for (const part of chunksOf(JSON.stringify(c.args), 5)) event(res, "content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } });
    event(res, "content_block_stop", { index });
    index++;
  }
  event(res, "message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output } });
  event(res, "message_stop", {});
};

function errorBody(status: number, message: string): unknown {
  const type = status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : status === 529 ? "overloaded_error" : status >= 500 ? "api_error" : "invalid_request_error";
  return { type: "error", error: { type, message } };
}

/** Starts an Anthropic messages fake; give the SDK its `origin` (the SDK adds `/v1/messages`). */
export function startFakeAnthropic(): Promise<FakeProvider> {
  return new FakeProvider(writeStep, errorBody, "/v1/messages").start();
}
