/**
 * Bounded fan-out smoke test (the real numbers come from `bench/fanout.ts`): 2,000
 * device-signed nodes connect, one broadcast reaches all of them, the gateway restarts
 * and the fleet reconnects (device tokens, backoff as the reference client), and a
 * disconnect storm of the whole fleet yields a handful of coalesced presence broadcasts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectOk } from "../helpers/client.js";
import { NodeFleet } from "../helpers/node-fleet.js";

const N = Number(process.env.NODES_SCALE_N ?? 2000);

test(`${N} device-signed nodes: connect, broadcast reaches all, restart + reconnect storm, coalesced presence on a disconnect storm`, async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-scale-"));
  // One IP hosts the whole fleet here: lift the per-IP pre-auth budget (bench/fanout spreads source IPs instead).
  const opts = { stateDir, preAuthMaxPerIp: 100_000, presenceBroadcastWindowMs: 100 };
  let gw: TestGateway = await startTestGateway(opts);
  const port = gw.port;
  const fleet = new NodeFleet({ port, count: N, token: TEST_TOKEN });
  t.after(async () => {
    fleet.destroyAll();
    await gw.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  let started = Date.now();
  await fleet.connectAll({ reconnect: true, timeoutMs: 30_000 });
  const connectMs = Date.now() - started;
  assert.equal(gw.nodes.registry.size, N);
  assert.equal(fleet.refused, 0);
  t.diagnostic(`connect: ${N} nodes in ${connectMs} ms (${Math.round((N / connectMs) * 1000)} handshakes/s, test process hosts both ends)`);

  // A broadcast reaches every node.
  const ts = Date.now();
  started = Date.now();
  gw.server.ctx.bus.broadcast("tick", { ts });
  await fleet.until(() => fleet.tickCount(ts) === N, 10_000);
  t.diagnostic(`tick reached all ${N} in ${Date.now() - started} ms`);

  // Restart on the same port: shutdown + 1012 to everyone, then a reconnect storm with device tokens.
  await gw.instance.stop("gateway restarting", 1500);
  // The close frames are on the wire when stop resolves; this process reads them on later turns.
  await fleet.until(() => (fleet.closeCodes.get(1012) ?? 0) >= N, 10_000).catch(() => undefined);
  assert.ok((fleet.closeCodes.get(1012) ?? 0) >= N, `every node saw 1012 (${JSON.stringify([...fleet.closeCodes])})`);
  started = Date.now();
  gw = await startTestGateway({ ...opts, port });
  const g2 = gw;
  await fleet.until(() => fleet.readyCount === N, 30_000);
  assert.equal(g2.nodes.registry.size, N, "hello-ok is sent after registration");
  t.diagnostic(`reconnect storm: ${N} nodes back ${Date.now() - started} ms after the restart (incl. the 1 s first backoff)`);
  assert.equal(fleet.refused, 0, "device tokens from hello-ok are accepted after the restart");
  const paired = g2.instance.devices.listPaired();
  assert.equal(paired.length, N, "every node was paired once, silently, and stays paired");

  // Disconnect storm: N presence changes, a few coalesced broadcasts with the latest list.
  const { client: watcher } = await connectOk(g2.url);
  t.after(() => watcher.close());
  const from = watcher.frames.length;
  fleet.destroyAll();
  await gatewayState(() => g2.nodes.registry.size === 0, 10_000);
  const finalVersion = g2.server.ctx.bus.stateVersion.presence;
  const last = await watcher.next((f) => f.event === "presence" && f.stateVersion!.presence === finalVersion, 5000, from);
  const broadcasts = watcher.frames.slice(from).filter((f) => f.event === "presence");
  t.diagnostic(`disconnect storm: ${N} disconnects → ${broadcasts.length} presence broadcasts`);
  assert.ok(broadcasts.length <= 10, `${N} disconnects produced ${broadcasts.length} presence broadcasts`);
  assert.ok(last.payload.presence.length <= 200, "the list stays capped");
  assert.ok(last.payload.presence.every((e: { reason?: string; mode?: string }) => e.mode !== "node" || e.reason === "disconnect"), "the last broadcast shows the final state");
});

/** Waits for gateway-side state that no client event signals (re-checked each event-loop turn). */
async function gatewayState(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("gateway state not reached");
    await new Promise<void>((r) => setImmediate(r));
  }
}
