/**
 * A Telegram message confirmed to the platform and queued by its owner, which is SIGKILLed
 * before the agent answered it (the fake model never answers that first request), is not
 * lost when the account fails over for good: the killed gateway, restarted while another
 * gateway runs the account, answers it through the owner — exactly once, with one poller at
 * any moment — and does not answer it again when the account later comes back to it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { TestClient } from "../helpers/client.js";
import { startClusterGateways, type ClusterGateway } from "../helpers/cluster-gateways.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { operatorOn, pollUntil, waitSynced } from "../helpers/cluster-state.js";
import { providersFor } from "../agent/helpers/provider-config.js";
import { TOKEN, startChannelFakes } from "../channels/channels-helpers.js";

const LEASE_MS = 1500;

/** The one gateway whose `health.cluster.leases.held` lists a lease (waits for it; fails on two). */
async function soleHolder(ops: Map<ClusterGateway, TestClient>): Promise<ClusterGateway> {
  return pollUntil(async () => {
    const out: ClusterGateway[] = [];
    for (const [gw, op] of ops) {
      const res = await op.request("health", { probe: true }).catch(() => undefined);
      const held = (res?.payload as { cluster?: { leases?: { held: string[] } } } | undefined)?.cluster?.leases?.held ?? [];
      if (held.length > 0) out.push(gw);
    }
    assert.ok(out.length <= 1, `two gateways hold the account: ${out.map((g) => g.id).join(", ")}`);
    return out[0];
  }, 20_000, 25);
}

test("a queued message of an owner killed before answering it is answered once after the failover, through the new owner", async (t) => {
  const { tg, openai } = await startChannelFakes(t);
  // The owner's model call for "held" never returns: the message is queued, confirmed to
  // Telegram, and not yet answered when the owner is killed.
  openai.script("gpt-a", { type: "hang" }, { type: "text", text: "reply held" }, { type: "text", text: "reply after" });
  const nats = await startNatsServer(t);
  const gws = await startClusterGateways(t, nats, 2, {
    cluster: { channelLeaseMs: LEASE_MS },
    config: (id) => ({
      channels: { telegram: { botToken: TOKEN, apiRoot: tg.apiRoot, dmPolicy: "open" } },
      agents: { defaults: { model: "oa/gpt-a", workspace: join("/tmp", `clawgate-leftover-ws-${id}`) } },
      models: providersFor({ openai }),
    }),
  });
  const ops = new Map<ClusterGateway, TestClient>();
  for (const gw of gws) ops.set(gw, await operatorOn(t, gw.url));
  await Promise.all([...ops.values()].map((op) => waitSynced(op, "leases")));

  const first = await soleHolder(ops);
  tg.push(TOKEN, { chatId: 42, fromId: 42, text: "held" });
  await pollUntil(async () => (openai.requestsFor("gpt-a").length >= 1 && tg.unconfirmed(TOKEN) === 0 ? true : undefined), 20_000, 25);

  ops.delete(first);
  await first.kill("SIGKILL");
  const second = await soleHolder(ops);
  assert.notEqual(second, first);
  assert.equal(tg.sent.length, 0, "nothing answered before the killed gateway is back");

  // The killed gateway comes back while the other one runs the account.
  const restartedAt = Date.now();
  await first.restart();
  ops.set(first, await operatorOn(t, first.url));
  await tg.waitSent(1, 30_000);
  const answeredMs = Date.now() - restartedAt;
  assert.equal(await soleHolder(ops), second, "the account stayed with the gateway that took it over");
  assert.equal(tg.sent[0]?.text, "reply held");

  // The account comes back to the restarted gateway: the message it answered through the
  // other one is not answered again, and the account works there.
  ops.delete(second);
  await second.kill("SIGKILL");
  assert.equal(await soleHolder(ops), first);
  tg.push(TOKEN, { chatId: 42, fromId: 42, text: "after" });
  await pollUntil(async () => (tg.sent.some((m) => m.text === "reply after") ? true : undefined), 20_000, 25);

  const count = (text: string): number => tg.sent.filter((m) => m.chatId === "42" && m.text === text).length;
  assert.equal(count("reply held"), 1, "the queued message is answered exactly once");
  assert.equal(count("reply after"), 1);
  assert.equal(tg.sent.length, 2, JSON.stringify(tg.sent.map((m) => m.text)));
  assert.equal(openai.requestsFor("gpt-a").length, 3, "the model ran once more for the queued message, not again once answered");
  assert.ok(tg.maxConcurrentPollers <= 1, `pollers overlapped: ${tg.maxConcurrentPollers}`);
  t.diagnostic(`queued message answered through the owner ${answeredMs} ms after the killed gateway was restarted (process start included)`);
});
