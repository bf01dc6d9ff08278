/**
 * What sharing pairing through the cluster costs and how fast it spreads.
 *
 *   node --import tsx bench/cluster-pairing.ts [--quick] [--rounds N] [--runs R] [--duration S] [--concurrency C]
 *
 * 1. New-device handshake latency (sequential; each device never seen before, silent
 *    loopback pairing, `hello-ok` carrying a device token): a plain gateway (answer after
 *    the disk write) vs a cluster gateway (after the disk write and the KV put), p50/p99.
 * 2. New-device handshakes per second with C concurrent clients for S seconds, the same two
 *    gateways, median (min–max) of R runs.
 * 3. Propagation, cluster only: `hello-ok` on gw-a → the device in gw-b's pairing cache, and
 *    `device.token.revoke` answered on gw-a → the token revoked in gw-b's cache (what the next
 *    handshake there reads), polled with `device.pair.list`, p50/max over the rounds. The
 *    poll's own round trip is included: these are upper bounds.
 * Results: a table on stdout, JSON in bench/results/cluster-pairing(.quick).json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { intArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, guardProcess, killAll } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { fmt, fmtSpread, formatTable, spread } from "./lib/stats.js";
import { connectClient, connectOk, type TestClient } from "../test/helpers/client.js";
import { createDevice, type TestDevice } from "../test/helpers/device.js";
import { disposeAll, startBenchGateway, startBroker } from "./cluster-presence/cluster-setup.js";

const TOKEN = "bench-token-0123456789abcdef";
const SCOPES = ["operator.read"];
const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const rounds = intArg(args, "rounds", quick ? 50 : 300);
const runs = intArg(args, "runs", quick ? 2 : 5);
const durationMs = intArg(args, "duration", quick ? 2 : 5) * 1000;
const concurrency = intArg(args, "concurrency", 16);
const outFile = join(REPO_ROOT, "bench", "results", quick ? "cluster-pairing.quick.json" : "cluster-pairing.json");

guardProcess(120_000 + runs * 2 * (durationMs + 2000) + rounds * 200);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** One new-device handshake; ms until hello-ok, and the device token. */
async function pairOnce(url: string, device: TestDevice = createDevice()): Promise<{ ms: number; token: string; device: TestDevice }> {
  const t0 = performance.now();
  const { client, res } = await connectClient(url, { device, token: TOKEN, scopes: SCOPES });
  const ms = performance.now() - t0;
  client.terminate();
  const token = (res.payload as { auth?: { deviceToken?: string } } | undefined)?.auth?.deviceToken;
  if (res.ok !== true || token === undefined) throw new Error(`pairing failed: ${JSON.stringify(res.error)}`);
  return { ms, token, device };
}

async function latency(url: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) out.push((await pairOnce(url)).ms);
  return out;
}

async function throughput(url: string): Promise<number> {
  let done = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await pairOnce(url);
        done += 1;
      }
    }),
  );
  return done / (durationMs / 1000);
}

/** The operator token entry of `deviceId` as `op`'s gateway holds it (undefined: not paired there). */
async function tokenState(op: TestClient, deviceId: string): Promise<{ revokedAtMs?: number } | undefined> {
  const res = await op.request("device.pair.list", {});
  const paired = (res.payload as { paired: { deviceId: string; tokens?: { role: string; revokedAtMs?: number }[] }[] }).paired;
  return paired.find((d) => d.deviceId === deviceId)?.tokens?.find((t) => t.role === "operator");
}

/**
 * Polls `op`'s gateway (its pairing cache, which every handshake reads) until `reached`;
 * ms from `since`. Polling rather than connecting: failed logins would be throttled.
 */
async function until(op: TestClient, deviceId: string, reached: (t: { revokedAtMs?: number } | undefined) => boolean, since: number): Promise<number> {
  for (;;) {
    if (reached(await tokenState(op, deviceId))) return performance.now() - since;
    if (performance.now() - since > 10_000) throw new Error("propagation took over 10 s");
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${machineHeader()}\n`);
  const nats = await startBroker();
  const plain = await startBenchGateway({ token: TOKEN, tickIntervalMs: 30_000 });
  const gwA = await startBenchGateway({ token: TOKEN, tickIntervalMs: 30_000, cluster: { natsUrl: nats.url, gatewayId: "bench-a" } });
  const gwB = await startBenchGateway({ token: TOKEN, tickIntervalMs: 30_000, cluster: { natsUrl: nats.url, gatewayId: "bench-b" } });
  // Both cluster gateways pair a first device once their buckets are open.
  for (const gw of [gwA, gwB]) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await pairOnce(gw.url).then(() => true, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${gw.url}: cluster pairing not ready`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const lat = { plain: await latency(plain.url), cluster: await latency(gwA.url) };
  const tput: { plain: number[]; cluster: number[] } = { plain: [], cluster: [] };
  for (let r = 0; r < runs; r++) {
    tput.plain.push(await throughput(plain.url));
    tput.cluster.push(await throughput(gwA.url));
  }

  const op: TestClient = (await connectOk(gwA.url, { token: TOKEN, scopes: ["operator.admin"] })).client;
  const opB: TestClient = (await connectOk(gwB.url, { token: TOKEN, scopes: ["operator.admin"] })).client;
  const pairToB: number[] = [];
  const revokeToB: number[] = [];
  const propagationRounds = Math.min(rounds, 50);
  for (let i = 0; i < propagationRounds; i++) {
    const t0 = performance.now();
    const p = await pairOnce(gwA.url);
    pairToB.push(await until(opB, p.device.id, (t) => t !== undefined, t0 + p.ms));
    const res = await op.request("device.token.revoke", { deviceId: p.device.id, role: "operator" });
    if (res.ok !== true) throw new Error(`revoke failed: ${JSON.stringify(res.error)}`);
    revokeToB.push(await until(opB, p.device.id, (t) => t?.revokedAtMs !== undefined, performance.now()));
  }
  op.close();
  opB.close();

  const rows = [
    ["new-device hello-ok p50 (ms)", fmt(pct(lat.plain, 50), 2), fmt(pct(lat.cluster, 50), 2)],
    ["new-device hello-ok p99 (ms)", fmt(pct(lat.plain, 99), 2), fmt(pct(lat.cluster, 99), 2)],
    [`new-device handshakes/s (C=${concurrency})`, fmtSpread(spread(tput.plain)), fmtSpread(spread(tput.cluster))],
    ["hello-ok on gw-a → device in gw-b's cache p50 / max (ms)", "—", `${fmt(pct(pairToB, 50), 1)} / ${fmt(Math.max(...pairToB), 1)}`],
    ["revoke answered on gw-a → revoked in gw-b's cache p50 / max (ms)", "—", `${fmt(pct(revokeToB, 50), 1)} / ${fmt(Math.max(...revokeToB), 1)}`],
  ];
  process.stdout.write(`${formatTable(["measure", "plain gateway", "cluster gateway"], rows)}\n`);
  await mkdir(join(REPO_ROOT, "bench", "results"), { recursive: true });
  await writeFile(
    outFile,
    `${JSON.stringify({ machine: machineInfo(), rounds, runs, durationMs, concurrency, latencyMs: lat, handshakesPerSecond: tput, propagationMs: { pairToB, revokeToB } }, null, 2)}\n`,
  );
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await disposeAll();
    await killAll();
  });
