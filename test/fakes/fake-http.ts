/**
 * Base of the loopback model-provider fakes: an HTTP server on 127.0.0.1:0 that records every
 * request and answers from per-model scripts (steps consumed in order; `"*"` is the queue for
 * any model). Dialect files (fake-openai.ts, fake-anthropic.ts) turn steps into wire bytes.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

/**
 * One scripted answer. `delayMs` is slept before every streamed chunk (slow provider).
 * `thinking` (Anthropic): a signed thinking block before the text (signature `sig:<thinking>`).
 */
export type FakeStep =
  | { type: "text"; text: string | string[]; delayMs?: number; usage?: { input: number; output: number }; thinking?: string }
  | { type: "tools"; calls: { id?: string; name: string; args: unknown }[]; text?: string; delayMs?: number; thinking?: string }
  | { type: "error"; status: number; message?: string; retryAfterMs?: number }
  | { type: "hang" };

/** What the fake recorded about one request. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

/** Renders one step for a dialect. */
export type StepWriter = (step: Exclude<FakeStep, { type: "error" } | { type: "hang" }>, req: RecordedRequest, res: ServerResponse, alive: () => boolean) => Promise<void>;
/** Renders an error body for a dialect. */
export type ErrorBody = (status: number, message: string) => unknown;

/** Splits text into chunks of about `n` characters (tests that want several deltas). */
export function chunksOf(text: string, n = 3): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

/** Sleeps `ms` (0 → next macrotask). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A scripted, recording provider fake. */
export class FakeProvider {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #scripts = new Map<string, FakeStep[]>();
  readonly #open = new Set<ServerResponse>();
  #port = 0;

  constructor(
    private readonly writeStep: StepWriter,
    private readonly errorBody: ErrorBody,
    private readonly expectedPath: string,
  ) {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts listening on 127.0.0.1 (random port). */
  async start(): Promise<this> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** Base URL to give the SDK (`http://127.0.0.1:<port>/v1`). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  /** `http://127.0.0.1:<port>` (the Anthropic SDK appends `/v1/messages` itself). */
  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Queues steps for requests naming `model` (`"*"`: any model without its own queue). */
  script(model: string, ...steps: FakeStep[]): this {
    this.#scripts.set(model, [...(this.#scripts.get(model) ?? []), ...steps]);
    return this;
  }

  /** Requests that named `model`. */
  requestsFor(model: string): RecordedRequest[] {
    return this.requests.filter((r) => r.body.model === model);
  }

  /** Closes the server and every open response. */
  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, "close");
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      body = {};
    }
    const rec: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
    this.requests.push(rec);
    if (rec.method !== "POST" || rec.path !== this.expectedPath) return this.#error(res, 404, `fake: unexpected ${rec.method} ${rec.path}`);
    const model = String(body.model);
    const queue = this.#scripts.get(model)?.length ? this.#scripts.get(model)! : (this.#scripts.get("*") ?? []);
    const step = queue.shift();
    if (step === undefined) return this.#error(res, 500, `fake: nothing scripted for model ${model}`);
    if (step.type === "error") return this.#error(res, step.status, step.message ?? `fake error ${step.status}`, step.retryAfterMs);
    this.#open.add(res);
    let alive = true;
    res.on("close", () => {
      alive = false;
      this.#open.delete(res);
    });
    if (step.type === "hang") return;
    await this.writeStep(step, rec, res, () => alive);
    if (alive) res.end();
  }

  #error(res: ServerResponse, status: number, message: string, retryAfterMs?: number): void {
    const headers: Record<string, string> = { "content-type": "application/json" };
    // Both SDKs honour retry-after-ms, which keeps retry tests fast.
    headers["retry-after-ms"] = String(retryAfterMs ?? 5);
    res.writeHead(status, headers).end(JSON.stringify(this.errorBody(status, message)));
  }
}
