/**
 * Fake OpenAI provider of bench/agent.ts, in its own process (forked with IPC, run from the
 * tsc build): in a real deployment the provider is another machine, and here its timers and
 * writes stay off the event loop of the client that measures latency. Model `b-<chunks>-<delayMs>`;
 * each chunk carries `<t>`, the CLOCK_MONOTONIC time of its write in ms (the same clock in
 * every process). Sends `{url}` once listening; exits when the parent goes away.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function startProvider(): Promise<string> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { model: string };
      const [, n, d] = /^b-(\d+)-(\d+)$/.exec(body.model) ?? ["", "5", "0"];
      const chunks = Number(n);
      const delay = Number(d);
      const base = { id: "chatcmpl-b", object: "chat.completion.chunk", created: 0, model: body.model };
      const frame = (delta: Record<string, unknown>, finish: string | null = null): string => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(frame({ role: "assistant", content: "" }));
      let i = 0;
      let gone = false;
      res.on("close", () => (gone = true));
      const step = (): void => {
        if (gone) return;
        if (i < chunks) {
          i++;
          res.write(frame({ content: `<${now().toFixed(3)}>` }));
          if (delay > 0) setTimeout(step, delay);
          else step();
          return;
        }
        res.write(frame({}, "stop"));
        res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: chunks, total_tokens: 10 + chunks } })}\n\n`);
        res.end("data: [DONE]\n\n");
      };
      if (delay > 0) setTimeout(step, delay);
      else step();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}


const url = await startProvider();
process.send?.({ url });
process.on("disconnect", () => process.exit(0));
