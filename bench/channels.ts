/**
 * Inbound channel messages through the whole path, with and without the queue's fsync, in
 * one run (the cost of durability, made visible).
 *
 *   npx tsx bench/channels.ts [--messages 400] [--chats 20] [--quick]
 *
 * Path per message: fake Bot API getUpdates → grammY in the Telegram worker → ring →
 * access control → inbound queue append (+fsync) → the agents module (one agent run on the
 * chat's session: pool thread, transcript, zero-delay fake OpenAI model on loopback) →
 * outbox pending (+fsync) → sendMessage via the worker → fake Bot API → outbox done.
 * Latency = push into the fake → the reply's sendMessage arriving at the fake (the k-th reply
 * to a chat answers its k-th message: one session lane per chat keeps them in order). All
 * messages are pushed at once (a burst spread over --chats chats). The same gateway
 * composition `gateway run` uses (channels loaded with the agents runtime as handler).
 * Writes bench/results/channels.json.
 * Not part of `npm test`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CHANNELS_MODULE, type ChannelsApi } from "../src/main/channels/channels-module.js";
import { FakeTelegram } from "../test/fakes/fake-telegram.js";
import { startAgentGateway } from "../test/agent/helpers/agent-gateway.js";
import { intArg, parseArgs } from "./lib/args.js";
import { machineHeader } from "./lib/machine.js";
import { fmt, formatTable } from "./lib/stats.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const N = intArg(args, "messages", quick ? 150 : 400);
const CHATS = intArg(args, "chats", 20);
const TOKEN = "1:BENCH";

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runOnce(fsync: boolean): Promise<{ fsync: boolean; msgsPerSec: number; p50: number; p99: number; max: number }> {
  const fake = new FakeTelegram();
  await fake.start();
  fake.addBot(TOKEN, { id: 1, username: "bench_bot" });
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-bench-ch-"));
  const ag = await startAgentGateway({
    stateDir,
    extra: {
      channels: {
        readChannelsConfig: () => ({ telegram: { botToken: TOKEN, apiRoot: fake.apiRoot, dmPolicy: "open" } }),
        env: {},
        pollTimeoutSec: 5,
        fsync,
      },
    },
  });
  // Zero-delay model: one short streamed answer per run.
  for (let i = 0; i < N + 1; i++) ag.openai.script("*", { type: "text", text: "ok" });
  const gw = ag.gw;
  try {
    const api = gw.instance.module<ChannelsApi>(CHANNELS_MODULE)!;
    await api.runner("telegram")!.supervisor!.whenRunning();
    // Warm-up: one message end to end.
    fake.push(TOKEN, { chatId: 1, fromId: 1, text: "warm-up" });
    await fake.waitSent(1, 30_000);
    const pushedAt = new Map<string, number[]>();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const chat = String(100 + (i % CHATS));
      pushedAt.set(chat, [...(pushedAt.get(chat) ?? []), performance.now()]);
      fake.push(TOKEN, { chatId: Number(chat), fromId: Number(chat), text: `m${i}` });
    }
    await fake.waitSent(N + 1, 120_000);
    const replies = fake.sent.slice(1);
    const t1 = Math.max(...replies.map((s) => s.at));
    const nth = new Map<string, number>();
    const lat = replies
      .map((s) => {
        const k = nth.get(s.chatId) ?? 0;
        nth.set(s.chatId, k + 1);
        return s.at - (pushedAt.get(s.chatId)?.[k] ?? NaN);
      })
      .sort((a, b) => a - b);
    return { fsync, msgsPerSec: (N * 1000) / (t1 - t0), p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1]! };
  } finally {
    await ag.close();
    await fake.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

console.log(machineHeader());
console.log(`channels: ${N} inbound messages over ${CHATS} chats, agent runs on a zero-delay fake model, fake Bot API on loopback`);
const results = [await runOnce(true), await runOnce(false)];
console.log(
  formatTable(
    ["queue+outbox", "msgs/s", "p50 ms", "p99 ms", "max ms"],
    results.map((r) => [r.fsync ? "fsync" : "no fsync", fmt(r.msgsPerSec), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.max, 1)]),
  ),
);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/channels.json", import.meta.url), `${JSON.stringify({ messages: N, chats: CHATS, results }, null, 2)}\n`);
process.exit(0);
