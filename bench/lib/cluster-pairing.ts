/**
 * bench/cluster.ts section "pairing": what sharing pairing through the cluster costs and
 * how fast it spreads (module `cluster-pairing`, docs/cluster.md "Pairing").
 *
 *   latency:     new-device handshakes one at a time (each device never seen before,
 *                silent loopback pairing, `hello-ok` carrying a device token) on a plain
 *                gateway (answers after the disk write) vs gw-a (after the disk write and
 *                the KV put), p50/p99 per run
 *   rate:        new-device handshakes/s with `concurrency` clients for `seconds`, both
 *   propagation: `hello-ok` on gw-a → the device in gw-b's pairing cache, and
 *                `device.token.revoke` answered on gw-a → the token revoked in gw-b's cache
 *                (what the next handshake there reads), polled with `device.pair.list`:
 *                the poll's own round trip is included, so these are upper bounds
 *
 * The plain gateway is the harness's, started beside the idle cluster; plain and cluster
 * alternate within each run.
 */
import { performance } from "node:perf_hooks";
import { connectClient, type TestClient } from "../../test/helpers/client.js";
import { createDevice, type TestDevice } from "../../test/helpers/device.js";
import { pcts, type Pcts } from "../fanout/measures.js";
import { sleep } from "./children.js";
import type { BenchCluster } from "./cluster-harness.js";
import { fmt, fmtSpread, spread, type Spread } from "./stats.js";

export interface PairingOptions {
  runs: number;
  /** Sequential new-device handshakes per run and gateway. */
  handshakes: number;
  /** Seconds of concurrent new-device handshakes per run and gateway. */
  seconds: number;
  concurrency: number;
  /** Pair-then-revoke rounds for the propagation figures (after the runs). */
  propagations: number;
}

/** One gateway's figures, median (min–max) of the per-run values. */
export interface PairingFigures {
  p50Ms: Spread;
  p99Ms: Spread;
  perSec: Spread;
}

export interface PairingResult {
  options: PairingOptions;
  plain: PairingFigures;
  cluster: PairingFigures;
  /** hello-ok on gw-a → visible in gw-b's cache; revoke answered on gw-a → revoked there. */
  pairToB: Pcts;
  revokeToB: Pcts;
  header: string[];
  rows: string[][];
}

const SCOPES = ["operator.read"];

/** One new-device handshake; ms until hello-ok, and the device. */
async function pairOnce(url: string, token: string, device: TestDevice = createDevice()): Promise<{ ms: number; device: TestDevice }> {
  const t0 = performance.now();
  const { client, res } = await connectClient(url, { device, token, scopes: SCOPES });
  const ms = performance.now() - t0;
  client.terminate();
  const deviceToken = (res.payload as { auth?: { deviceToken?: string } } | undefined)?.auth?.deviceToken;
  if (res.ok !== true || deviceToken === undefined) throw new Error(`pairing failed: ${JSON.stringify(res.error)}`);
  return { ms, device };
}

async function latency(url: string, token: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await pairOnce(url, token)).ms);
  return out;
}

async function rate(url: string, token: string, o: PairingOptions): Promise<number> {
  let done = 0;
  const end = performance.now() + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        await pairOnce(url, token);
        done += 1;
      }
    }),
  );
  return done / o.seconds;
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

/** Waits until `url` pairs a new device (a cluster gateway opens its buckets after start). */
async function pairingReady(url: string, token: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await pairOnce(url, token).then(() => true, () => false)) return;
    if (Date.now() > deadline) throw new Error(`${url}: pairing not ready`);
    await sleep(200);
  }
}

function figures(lat: number[][], perSec: number[]): PairingFigures {
  const p = lat.map((s) => pcts(s));
  return { p50Ms: spread(p.map((x) => x.p50)), p99Ms: spread(p.map((x) => x.p99)), perSec: spread(perSec) };
}

/** Runs the section on a cluster of at least two gateways. */
export async function benchPairing(cluster: BenchCluster, o: PairingOptions, log: (line: string) => void): Promise<PairingResult> {
  const [gwA, gwB] = cluster.gateways as [BenchCluster["gateways"][number], BenchCluster["gateways"][number]];
  const token = cluster.token;
  const plain = await cluster.startPlainGateway();
  const lat = { plain: [] as number[][], cluster: [] as number[][] };
  const perSec = { plain: [] as number[], cluster: [] as number[] };
  try {
    for (const url of [plain.url, gwA.url, gwB.url]) await pairingReady(url, token);
    for (let r = 0; r < o.runs; r++) {
      lat.plain.push(await latency(plain.url, token, o.handshakes));
      lat.cluster.push(await latency(gwA.url, token, o.handshakes));
      perSec.plain.push(await rate(plain.url, token, o));
      perSec.cluster.push(await rate(gwA.url, token, o));
      const p = pcts(lat.plain[r] as number[]);
      const c = pcts(lat.cluster[r] as number[]);
      log(`run ${r + 1}/${o.runs}: hello-ok p50 plain ${p.p50.toFixed(2)} ms, cluster ${c.p50.toFixed(2)} ms · ${fmt(perSec.plain[r])} vs ${fmt(perSec.cluster[r])} new devices/s`);
    }
  } finally {
    await cluster.stopPlainGateway(plain);
  }
  const opA = await cluster.operator(gwA);
  const opB = await cluster.operator(gwB);
  const pairToB: number[] = [];
  const revokeToB: number[] = [];
  try {
    for (let i = 0; i < o.propagations; i++) {
      const t0 = performance.now();
      const p = await pairOnce(gwA.url, token);
      pairToB.push(await until(opB, p.device.id, (t) => t !== undefined, t0 + p.ms));
      const res = await opA.request("device.token.revoke", { deviceId: p.device.id, role: "operator" });
      if (res.ok !== true) throw new Error(`revoke failed: ${JSON.stringify(res.error)}`);
      revokeToB.push(await until(opB, p.device.id, (t) => t?.revokedAtMs !== undefined, performance.now()));
    }
  } finally {
    opA.close();
    opB.close();
  }
  const pf = figures(lat.plain, perSec.plain);
  const cf = figures(lat.cluster, perSec.cluster);
  const toB = pcts(pairToB);
  const revB = pcts(revokeToB);
  const header = ["new-device pairing", "hello-ok p50 ms", "hello-ok p99 ms", `new devices/s (${o.concurrency} clients)`, "to gw-b's cache p50 / max ms"];
  const rows = [
    ["plain gateway", fmtSpread(pf.p50Ms, 2), fmtSpread(pf.p99Ms, 2), fmtSpread(pf.perSec), "-"],
    ["cluster gateway (gw-a)", fmtSpread(cf.p50Ms, 2), fmtSpread(cf.p99Ms, 2), fmtSpread(cf.perSec), `${fmt(toB.p50, 1)} / ${fmt(toB.max, 1)}`],
    ["revoke answered on gw-a", "", "", "", `${fmt(revB.p50, 1)} / ${fmt(revB.max, 1)}`],
  ];
  return { options: o, plain: pf, cluster: cf, pairToB: toB, revokeToB: revB, header, rows };
}
