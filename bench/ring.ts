/**
 * Ring queue vs postMessage, worker -> main, measured in the same run.
 *
 *   npx tsx bench/ring.ts [--runs 5] [--quick]
 *
 * Transports (all carry the same message { i, t, d: Uint8Array } of ~SIZE bytes):
 *   ring         msgpackr record through a SharedArrayBuffer ring, RingReader on main
 *   pm-object    postMessage(object)              (structured clone)
 *   pm-bytes     postMessage(msgpackr bytes copy) (structured clone of the bytes) + decode
 *   pm-transfer  postMessage(bytes, [buffer])     (transfer)                       + decode
 *
 * Per size and transport, median of several runs with min..max spread:
 *   msgs/s, MB/s         flood of N messages, first send -> last receive
 *   flood lat p50/p99    one-way time send -> handled on main during that flood (queueing)
 *   eld p99              main-thread event-loop delay during the flood
 *   rtt p50/p99          paced ping -> reply round trips (wake-up + transfer), 300 per run
 * Writes bench/results/ring.json. Not part of `npm test`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { Worker } from "node:worker_threads";
import { spawnWorkerThread } from "../src/main/workers/spawn-worker.js";
import { createRingCodec } from "../src/shared/ring/ring-codec.js";
import { createRingBuffers } from "../src/shared/ring/ring-layout.js";
import type { RingBuffers } from "../src/shared/ring/ring-layout.js";
import { MainRingWriter } from "../src/shared/ring/main-ring-writer.js";
import { RingProducer } from "../src/shared/ring/ring-producer.js";
import { RingReader } from "../src/shared/ring/ring-reader.js";

type Transport = "ring" | "pm-object" | "pm-bytes" | "pm-transfer";
type Cmd = { cmd: "flood"; transport: Transport; size: number; n: number } | { cmd: "reply-size"; size: number; transport: Transport };
interface Msg { i: number; t: number; d: Uint8Array }
interface Rings { toMain: RingBuffers; toWorker: RingBuffers }

const TRANSPORTS: Transport[] = ["ring", "pm-object", "pm-bytes", "pm-transfer"];
const RING_BYTES = 1 << 20;
const now = (): number => performance.timeOrigin + performance.now();
const makeMsg = (i: number, size: number): Msg => ({ i, t: now(), d: new Uint8Array(Math.max(0, size - 24)).fill(i & 0xff) });

if (!isMainThread) runWorker(workerData as Rings);
else await runMain();

function runWorker(rings: Rings): void {
  const port = parentPort;
  if (!port) throw new Error("bench worker without parentPort");
  const codec = createRingCodec();
  const producer = new RingProducer(rings.toMain);
  let replySize = 32;
  let replyTransport: Transport = "ring";
  const send = (transport: Transport, msg: Msg): void => {
    switch (transport) {
      case "ring":
        producer.writeBlocking(codec.encode(msg));
        return;
      case "pm-object":
        port.postMessage(msg);
        return;
      case "pm-bytes":
        port.postMessage(Uint8Array.prototype.slice.call(codec.encode(msg)));
        return;
      case "pm-transfer": {
        const bytes = Uint8Array.prototype.slice.call(codec.encode(msg));
        port.postMessage(bytes, [bytes.buffer]);
        return;
      }
    }
  };
  // Pings arrive on the ring (ring transport) or as a message; both answer with one reply.
  const reader = new RingReader(rings.toWorker, () => send(replyTransport, makeMsg(0, replySize)));
  void reader.start();
  port.on("message", (m: Cmd | "ping") => {
    if (m === "ping") return send(replyTransport, makeMsg(0, replySize));
    if (m.cmd === "reply-size") {
      replySize = m.size;
      replyTransport = m.transport;
      port.postMessage("ok");
      return;
    }
    for (let i = 0; i < m.n; i++) send(m.transport, makeMsg(i, m.size));
  });
}

interface RunResult { msgsPerSec: number; mbPerSec: number; latP50: number; latP99: number; eldP99: number; rttP50: number; rttP99: number }
type Stat = { median: number; min: number; max: number };

function pct(sorted: Float64Array | number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runMain(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const runsArg = args.indexOf("--runs");
  const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : quick ? 2 : 5;
  const SIZES = quick ? [32, 4096] : [32, 256, 1024, 4096, 16384, 65536];
  const rings: Rings = { toMain: createRingBuffers(RING_BYTES), toWorker: createRingBuffers(RING_BYTES) };
  const worker = spawnWorkerThread(new URL(import.meta.url), { workerData: rings });
  worker.on("error", (err) => {
    console.error("bench worker failed:", err);
    process.exit(1);
  });
  const codec = createRingCodec();
  let onMsg: (m: Msg) => void = () => {};
  const reader = new RingReader(rings.toMain, (bytes) => onMsg(codec.decode(bytes) as Msg));
  void reader.start();
  worker.on("message", (m: unknown) => {
    if (m === "ok") return;
    onMsg(m instanceof Uint8Array ? (codec.decode(m) as Msg) : (m as Msg));
  });
  const pinger = new MainRingWriter(rings.toWorker);
  const ctl = (c: Cmd): Promise<void> => new Promise((resolve) => {
    worker.once("message", () => resolve());
    worker.postMessage(c);
  });

  const flood = (transport: Transport, size: number, n: number): Promise<Omit<RunResult, "rttP50" | "rttP99">> =>
    new Promise((resolve) => {
      const lat = new Float64Array(n);
      const eld = monitorEventLoopDelay({ resolution: 1 });
      let got = 0;
      let first = 0;
      onMsg = (m) => {
        const t = now();
        if (got === 0) first = m.t;
        if (m.i !== got) throw new Error(`${transport}: message ${m.i} arrived as #${got}`);
        lat[got++] = t - m.t;
        if (got < n) return;
        eld.disable();
        const secs = (t - first) / 1000;
        lat.sort();
        resolve({ msgsPerSec: n / secs, mbPerSec: (n * size) / secs / 1e6, latP50: pct(lat, 50), latP99: pct(lat, 99), eldP99: eld.percentile(99) / 1e6 });
      };
      eld.enable();
      worker.postMessage({ cmd: "flood", transport, size, n } satisfies Cmd);
    });

  const roundTrips = async (transport: Transport, size: number, count: number): Promise<{ rttP50: number; rttP99: number }> => {
    await ctl({ cmd: "reply-size", size, transport });
    const rtts: number[] = [];
    const ping = Uint8Array.of(1);
    for (let k = -10; k < count; k++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        onMsg = () => resolve();
        if (transport === "ring") pinger.write(ping);
        else worker.postMessage("ping");
      });
      if (k >= 0) rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    return { rttP50: pct(rtts, 50), rttP99: pct(rtts, 99) };
  };

  const results: Record<string, Record<Transport, Record<keyof RunResult, Stat>>> = {};
  const ratios: Record<string, Record<string, { msgsPerSec: number; eldP99: number }>> = {};
  const loadBefore = loadavg()[0];
  const started = performance.now();
  for (const size of SIZES) {
    const n = Math.min(100_000, Math.max(2000, Math.floor((32 << 20) / size)));
    const bySize = {} as Record<Transport, Record<keyof RunResult, Stat>>;
    for (const transport of TRANSPORTS) {
      const runs: RunResult[] = [];
      await flood(transport, size, Math.ceil(n / 4)); // warm-up (JIT, buffers), discarded
      for (let r = 0; r < RUNS; r++) runs.push({ ...(await flood(transport, size, quick ? n / 4 : n)), ...(await roundTrips(transport, size, 300)) });
      bySize[transport] = summarise(runs);
    }
    results[String(size)] = bySize;
    ratios[String(size)] = Object.fromEntries(
      TRANSPORTS.filter((t) => t !== "ring").map((t) => [
        `ring/${t}`,
        { msgsPerSec: bySize.ring.msgsPerSec.median / bySize[t].msgsPerSec.median, eldP99: bySize.ring.eldP99.median / bySize[t].eldP99.median },
      ]),
    );
    printSize(size, bySize);
  }
  reader.close();
  await worker.terminate();
  // Load average (1 min) before and after: on a shared machine, read the spread with it.
  const load = { before: loadBefore, after: loadavg()[0] };
  const out = { node: process.version, date: new Date().toISOString(), runs: RUNS, ringBytes: RING_BYTES, seconds: (performance.now() - started) / 1000, load, ratios, results };
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/ring.json", import.meta.url), JSON.stringify(out, null, 2) + "\n");
  console.log(`\n${RUNS} runs per cell, median (min..max). ${out.seconds.toFixed(0)} s, load ${load.before.toFixed(1)} -> ${load.after.toFixed(1)}. Wrote bench/results/ring.json`);
}

function summarise(runs: RunResult[]): Record<keyof RunResult, Stat> {
  const keys = Object.keys(runs[0] as RunResult) as Array<keyof RunResult>;
  const out = {} as Record<keyof RunResult, Stat>;
  for (const k of keys) {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b);
    out[k] = { median: pct(v, 50), min: v[0] as number, max: v[v.length - 1] as number };
  }
  return out;
}

function printSize(size: number, by: Record<Transport, Record<keyof RunResult, Stat>>): void {
  const f = (x: number, d = 1): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)}k` : x.toFixed(d));
  const spread = (s: Stat): string => `${f(s.median)} (${f(s.min)}..${f(s.max)})`;
  const ring = by.ring;
  console.log(`\n== ${size} B ==`);
  console.log(["transport".padEnd(12), "msgs/s (min..max)".padEnd(26), "MB/s".padStart(7), "flood lat p50/p99 ms".padStart(21), "eld p99 ms".padStart(11), "rtt p50/p99 ms".padStart(15), "ring/this msgs/s".padStart(17), "eld this/ring".padStart(14)].join(" "));
  for (const t of TRANSPORTS) {
    const s = by[t];
    console.log(
      [
        t.padEnd(12),
        spread(s.msgsPerSec).padEnd(26),
        f(s.mbPerSec.median).padStart(7),
        `${s.latP50.median.toFixed(2)}/${s.latP99.median.toFixed(2)}`.padStart(21),
        s.eldP99.median.toFixed(1).padStart(11),
        `${s.rttP50.median.toFixed(3)}/${s.rttP99.median.toFixed(3)}`.padStart(15),
        (t === "ring" ? "-" : `${(ring.msgsPerSec.median / s.msgsPerSec.median).toFixed(2)}x`).padStart(17),
        (t === "ring" ? "-" : `${(s.eldP99.median / ring.eldP99.median).toFixed(1)}x`).padStart(14),
      ].join(" "),
    );
  }
}
