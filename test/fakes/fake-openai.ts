/**
 * Loopback fake of an OpenAI-compatible `POST /v1/chat/completions`, speaking the real wire
 * format: SSE `chat.completion.chunk` records (role, content deltas, `tool_calls` deltas with
 * `index` and arguments split across chunks, `finish_reason`, a usage chunk when
 * `stream_options.include_usage`) ending with `data: [DONE]`; plain JSON when `stream` is off;
 * `{"error":{message,type,code}}` bodies on errors.
 */
import type { ServerResponse } from "node:http";
import { FakeProvider, chunksOf, pause } from "./fake-http.js";
import type { RecordedRequest, StepWriter } from "./fake-http.js";

let counter = 0;

function frame(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

const writeStep: StepWriter = async (step, req, res, alive) => {
  const id = `chatcmpl-fake${++counter}`;
  const model = String(req.body.model);
  const created = Math.floor(Date.now() / 1000);
  const delay = step.delayMs ?? 0;
  const text = step.type === "text" ? (Array.isArray(step.text) ? step.text.join("") : step.text) : (step.text ?? "");
  const calls = step.type === "tools" ? step.calls.map((c, i) => ({ id: c.id ?? `call_${counter}_${i}`, name: c.name, args: JSON.stringify(c.args) })) : [];
  const usage = step.type === "text" && step.usage ? step.usage : { input: 11, output: 7 };
  const usageWire = { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
  const finish = calls.length > 0 ? "tool_calls" : "stop";
  if (req.body.stream !== true) {
    const message: Record<string, unknown> = { role: "assistant", content: text === "" ? null : text, refusal: null };
    if (calls.length > 0) message.tool_calls = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.args } }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: usageWire }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
    id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  frame(res, chunk({ role: "assistant", content: "" }));
  const pieces = step.type === "text" && Array.isArray(step.text) ? step.text : chunksOf(text);
  for (const piece of pieces) {
    await pause(delay);
    if (!alive()) return;
    frame(res, chunk({ content: piece }));
  }
  for (const [index, c] of calls.entries()) {
    await pause(delay);
    if (!alive()) return;
    frame(res, chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
    for (const part of chunksOf(c.args, 5)) frame(res, chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  }
  frame(res, chunk({}, finish));
  const opts = req.body.stream_options as { include_usage?: boolean } | undefined;
  if (opts?.include_usage === true) frame(res, { id, object: "chat.completion.chunk", created, model, choices: [], usage: usageWire });
  res.write("data: [DONE]\n\n");
};

function errorBody(status: number, message: string): unknown {
  const type = status === 401 ? "invalid_request_error" : status === 429 ? "requests" : "server_error";
  const code = status === 401 ? "invalid_api_key" : status === 429 ? "rate_limit_exceeded" : null;
  return { error: { message, type, param: null, code } };
}

/** Starts an OpenAI chat-completions fake; `baseUrl` ends in `/v1`. */
export function startFakeOpenAI(): Promise<FakeProvider> {
  return new FakeProvider(writeStep, errorBody, "/v1/chat/completions").start();
}

export type { RecordedRequest };
