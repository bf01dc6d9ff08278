/**
 * An account runner without worker (cluster: the account runs on another gateway) handles
 * the entries left in its local queue: it waits for the shared store, runs the handler once
 * per unhandled entry, forwards every reply chunk to the owner under its reply key — retried
 * while the owner answers UNAVAILABLE, given up on a refusal for good — and marks the entries
 * done; stopped mid-retry, it leaves them pending for the next start.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pino } from "pino";
import { GatewayError } from "../../src/shared/errors.js";
import { InboundQueue } from "../../src/shared/store/inbound-queue.js";
import { Outbox } from "../../src/shared/store/outbox.js";
import { AccountRunner } from "../../src/main/channels/account-runner.js";
import type { AccountOwnership, ForwardedSend } from "../../src/main/channels/account-ownership.js";
import type { ChannelAccount } from "../../src/main/channels/channel-config.js";
import { ChannelPairingStore } from "../../src/main/channels/channel-pairing-store.js";
import type { InboundMessage } from "../../src/main/channels/channel-types.js";
import type { ChannelInbound, ChannelSendResult } from "../../src/workers/channels/channel-link-protocol.js";
import { tempDir } from "../helpers/temp-dir.js";

const account: ChannelAccount = {
  channel: "telegram", accountId: "default", enabled: true, configured: true, token: "1:t", tokenSource: "config", webhookPath: "/telegram-webhook",
  access: { dmPolicy: "open", allowFrom: [], groupPolicy: "allowlist", groupAllowFrom: [], groups: {} }, fingerprint: "f",
};

function inbound(n: number): ChannelInbound {
  return { messageId: `42:${n}`, chatId: "42", chatType: "direct", senderId: "42", text: `m${n}`, ts: Date.now(), wasMentioned: true };
}

type Ownership = Pick<AccountOwnership, "shouldHandle" | "handled" | "once" | "whenShared">;

/** A queue file left with one unhandled entry (42:1) and one handled whose reply is owed (42:2). */
async function leftovers(stateDir: string): Promise<void> {
  const q = await InboundQueue.open<ChannelInbound>(AccountRunner.queueFile(stateDir, account));
  await q.accept("42:1", inbound(1));
  await q.accept("42:2", inbound(2));
  await q.markHandled("42:2", "answer two");
  await q.close();
}

async function runner(stateDir: string, o: { ownership: Ownership; forward: (s: ForwardedSend) => Promise<ChannelSendResult>; handled: InboundMessage[] }): Promise<AccountRunner> {
  const outbox = await Outbox.open(join(stateDir, "outbox.jsonl"));
  return new AccountRunner({
    account, stateDir, log: pino({ level: "silent" }), outbox, pairing: new ChannelPairingStore(stateDir, "telegram"),
    handler: async (m) => {
      o.handled.push(m);
      return { replyText: `answer ${m.text}` };
    },
    link: () => {
      throw new Error("no worker runs here");
    },
    ownership: o.ownership,
    forward: o.forward,
  });
}

async function pendingIds(stateDir: string): Promise<string[]> {
  const q = await InboundQueue.open<ChannelInbound>(AccountRunner.queueFile(stateDir, account));
  const ids = q.pending().map((p) => p.id);
  await q.close();
  return ids;
}

test("leftover entries are handled once and answered through the owner, retried while it is unavailable", async (t) => {
  const stateDir = tempDir(t);
  await leftovers(stateDir);
  let shared!: () => void;
  const sharedReady = new Promise<void>((resolve) => (shared = resolve));
  const handledKeys: string[] = [];
  const forwarded: ForwardedSend[] = [];
  let refusals = 2;
  let allSent!: () => void;
  const sent = new Promise<void>((resolve) => (allSent = resolve));
  const handled: InboundMessage[] = [];
  const r = await runner(stateDir, {
    ownership: {
      whenShared: () => sharedReady,
      shouldHandle: async () => true,
      handled: (k) => void handledKeys.push(k),
      once: (_k, send) => send(),
    },
    forward: async (s) => {
      if (refusals-- > 0) throw new GatewayError("GW_ERR_CLUSTER_UNAVAILABLE", "no owner yet");
      forwarded.push(s);
      if (forwarded.length === 2) allSent();
      return { messageId: String(forwarded.length), chatId: s.to };
    },
    handled,
  });
  t.after(() => r.stop());
  await r.openQueue();
  assert.equal(r.snapshot().queueDepth, 2);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(handled.length, 0, "nothing handled before the shared store answers");
  shared();
  await sent;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(handled.map((m) => m.messageId), ["42:1"], "only the unhandled entry runs the handler");
  assert.deepEqual(
    forwarded.map((s) => [s.key, s.to, s.text]),
    [["reply:telegram:default:42:1:0", "42", "answer m1"], ["reply:telegram:default:42:2:0", "42", "answer two"]],
  );
  await pollDepth(r, 0);
  assert.deepEqual(handledKeys, ["telegram:default:42:1", "telegram:default:42:2"]);
  await r.stop();
  assert.deepEqual(await pendingIds(stateDir), []);
});

test("a reply the owner refuses for good is not retried; a runner stopped mid-retry keeps its entries", async (t) => {
  const stateDir = tempDir(t);
  await leftovers(stateDir);
  const calls: string[] = [];
  const handled: InboundMessage[] = [];
  const ownership: Ownership = { whenShared: async () => undefined, shouldHandle: async () => true, handled: () => undefined, once: (_k, send) => send() };
  const refusing = await runner(stateDir, {
    ownership,
    forward: async (s) => {
      calls.push(s.key);
      throw new GatewayError("GW_ERR_CHANNEL_OUTCOME_UNKNOWN", "interrupted elsewhere");
    },
    handled,
  });
  await refusing.openQueue();
  await pollDepth(refusing, 0);
  await refusing.stop();
  assert.deepEqual(calls, ["reply:telegram:default:42:1:0", "reply:telegram:default:42:2:0"], "one attempt each");

  const stateDir2 = tempDir(t);
  await leftovers(stateDir2);
  let attempts = 0;
  const unreachable = await runner(stateDir2, {
    ownership,
    forward: async () => {
      attempts += 1;
      throw new GatewayError("GW_ERR_CLUSTER_GATEWAY_UNREACHABLE", "owner gone");
    },
    handled: [],
  });
  await unreachable.openQueue();
  while (attempts < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  await unreachable.stop();
  assert.deepEqual((await pendingIds(stateDir2)).sort(), ["42:1", "42:2"], "entries stay owed for the next start");
});

async function pollDepth(r: AccountRunner, depth: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (r.snapshot().queueDepth !== depth) {
    if (Date.now() > deadline) throw new Error(`queue depth stays ${r.snapshot().queueDepth}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
