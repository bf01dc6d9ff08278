/**
 * `send` idempotency across a gateway kill -9 (a real child process): a completed send is
 * replayed from the outbox, never re-sent; a send whose process died mid-flight (response
 * lost) is reported as outcome-unknown and never re-sent. The fake Bot API counts deliveries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connectOk } from "../helpers/client.js";
import { FakeTelegram } from "../fakes/fake-telegram.js";
import { BOT, TOKEN } from "./channels-helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./fixtures/channels-gateway-child.ts", import.meta.url));

async function startChild(stateDir: string, apiRoot: string) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], { cwd: ROOT, env: { ...process.env, STATE_DIR: stateDir, API_ROOT: apiRoot, BOT_TOKEN: TOKEN }, stdio: ["ignore", "pipe", "inherit"] });
  const rl = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [line] = (await once(rl, "line")) as [string];
  clearTimeout(timer);
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    async kill9() {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    },
  };
}

async function send(url: string, params: Record<string, unknown>, timeoutMs = 10_000) {
  const { client } = await connectOk(url);
  try {
    return await client.request("send", params, timeoutMs);
  } finally {
    client.close();
  }
}

/** Retries while the account's worker is still starting (GW_ERR_CHANNEL_NOT_RUNNING is not cached). */
async function sendWhenRunning(url: string, params: Record<string, unknown>) {
  for (let i = 0; ; i++) {
    const r = await send(url, params);
    if (r.ok || !/is not running/.test(r.error?.message ?? "") || i > 100) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

test("send survives kill -9: completed keys replay, interrupted keys are never sent again", async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-kill9-"));
  t.after(() => rm(stateDir, { recursive: true, force: true }));
  const fake = new FakeTelegram();
  await fake.start();
  fake.addBot(TOKEN, BOT);
  t.after(() => fake.close());

  const a = await startChild(stateDir, fake.apiRoot);
  t.after(() => a.kill9());
  const done = { channel: "telegram", to: "61", message: "durable", idempotencyKey: "kill-done" };
  const first = await sendWhenRunning(a.url, done);
  assert.equal(first.ok, true, JSON.stringify(first));
  // The next send reaches Telegram but its response never comes back; the gateway dies.
  fake.holdSends = true;
  const { client } = await connectOk(a.url);
  void client.request("send", { ...done, idempotencyKey: "kill-inflight" }, 30_000).catch(() => undefined);
  await fake.waitSent(2);
  await a.kill9();
  client.close();
  fake.holdSends = false;

  const b = await startChild(stateDir, fake.apiRoot);
  t.after(() => b.kill9());
  const again = await sendWhenRunning(b.url, done);
  assert.equal(again.ok, true);
  assert.deepEqual(again.payload, first.payload);
  const lost = await sendWhenRunning(b.url, { ...done, idempotencyKey: "kill-inflight" });
  assert.equal(lost.ok, false);
  assert.match(lost.error!.message, /outcome is unknown/);
  assert.equal(fake.sent.length, 2, "each key reached Telegram once");
  await b.kill9();
});
