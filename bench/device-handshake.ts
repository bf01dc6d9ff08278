/**
 * New-device handshakes per second: every handshake is a device never seen before, connecting
 * from loopback with the shared token (silent pairing → a device token in `hello-ok`), so
 * each one changes the pairing state.
 *
 *   node --import tsx bench/device-handshake.ts [--quick] [--runs N] [--duration S] [--concurrency C]
 *                                               [--old-src DIR]
 *
 * Compares, in one run and interleaved window by window (fresh state dir each window):
 *   - "ack-before-write": `hello-ok` sent before the pairing state is written (the behaviour
 *     before group commit; a kill -9 loses tokens already handed out) — the baseline;
 *   - "group-commit": `hello-ok` sent once the write carrying the device is on disk, every
 *     handshake of a turn sharing one write;
 *   - with `--old-src DIR`, also "old-code": the gateway imported from another checkout, e.g.
 *     the commit before group commit (`git archive <commit> | tar -x -C DIR`, then
 *     `ln -s $PWD/node_modules DIR/node_modules`).
 * The load generator runs in this process (one fresh Ed25519 key per handshake), the gateway
 * in a child. Prints median (min–max) per mode and the ratio; JSON to bench/results/.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { intArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, forkTs, guardProcess, killAll } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { fmt, fmtSpread, formatTable, spread } from "./lib/stats.js";
import { resolve } from "node:path";
import { buildConnectParams } from "../test/helpers/client.js";
import { createDevice } from "../test/helpers/device.js";
import { TEST_TOKEN } from "../test/helpers/gateway.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const runs = intArg(args, "runs", quick ? 2 : 5);
const durationMs = intArg(args, "duration", quick ? 2 : 5) * 1000;
const warmupMs = 1000;
const concurrency = intArg(args, "concurrency", 32);
const oldSrc = args.values.get("old-src");
type Mode = "ack-before-write" | "group-commit" | "old-code";
const MODES: Mode[] = oldSrc === undefined ? ["ack-before-write", "group-commit"] : ["old-code", "ack-before-write", "group-commit"];
const CLIENT = { id: "cli", mode: "cli", version: "1.0.0", platform: "linux" };

guardProcess(60_000 + runs * MODES.length * (durationMs + warmupMs + 8000));

/** One new-device handshake on a fresh socket; resolves true on hello-ok with a device token. */
function handshake(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const device = createDevice();
    const done = (ok: boolean): void => {
      ws.terminate();
      resolve(ok);
    };
    ws.on("error", () => done(false));
    ws.on("close", () => resolve(false));
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as { type: string; event?: string; payload?: { nonce?: string; auth?: { deviceToken?: string } }; ok?: boolean };
      if (f.type === "event" && f.event === "connect.challenge") {
        ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: buildConnectParams(f.payload?.nonce, { device, client: CLIENT }) }));
      } else if (f.type === "res") {
        done(f.ok === true && typeof f.payload?.auth?.deviceToken === "string");
      }
    });
  });
}

async function window(mode: Mode): Promise<{ perSecond: number; errors: number }> {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-bench-devhs-"));
  const env: NodeJS.ProcessEnv = { STATE_DIR: dir, COMMIT: mode === "group-commit" ? "group" : "none", BENCH_TOKEN: TEST_TOKEN };
  if (mode === "old-code" && oldSrc !== undefined) env.GATEWAY_SRC = resolve(oldSrc);
  const child = forkTs(join(REPO_ROOT, "bench", "lib", "device-gateway-child.ts"), env);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { port: number }).port));
      child.once("exit", (code) => reject(new Error(`gateway child exited (${String(code)})`)));
    });
    const url = `ws://127.0.0.1:${port}`;
    let measuring = false;
    let running = true;
    let ok = 0;
    let errors = 0;
    const lane = async (): Promise<void> => {
      while (running) {
        const good = await handshake(url);
        if (!measuring) continue;
        if (good) ok++;
        else errors++;
      }
    };
    const lanes = Array.from({ length: concurrency }, lane);
    await new Promise((r) => setTimeout(r, warmupMs));
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationMs));
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const count = ok;
    running = false;
    await Promise.all(lanes);
    return { perSecond: count / seconds, errors };
  } finally {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

const machine = machineInfo();
process.stdout.write(`${machineHeader(machine)}\nnew-device handshakes/s, ${concurrency} in flight, ${runs} x ${durationMs / 1000} s windows\n`);
const samples: Record<Mode, number[]> = { "ack-before-write": [], "group-commit": [], "old-code": [] };
let errors = 0;
for (let r = 0; r < runs; r++) {
  for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
    const w = await window(mode);
    samples[mode].push(w.perSecond);
    errors += w.errors;
    process.stdout.write(`  ${mode} run ${r + 1}/${runs}: ${fmt(w.perSecond)}/s${w.errors ? ` · ${w.errors} errors` : ""}\n`);
  }
}
const base = spread(samples["ack-before-write"]);
const group = spread(samples["group-commit"]);
process.stdout.write(
  `\n${formatTable(
    ["mode", "handshakes/s median (min–max)"],
    MODES.map((m) => [m, fmtSpread(spread(samples[m]))]),
  )}\ngroup-commit / ack-before-write: ${fmt((100 * group.median) / base.median)}%` +
    (oldSrc !== undefined ? ` · group-commit / old-code: ${fmt((100 * group.median) / spread(samples["old-code"]).median)}%` : "") +
    `${errors ? ` · ${errors} failed handshakes` : ""}\n`,
);
const out = join(REPO_ROOT, "bench", "results", quick ? "device-handshake.quick.json" : "device-handshake.json");
await mkdir(join(REPO_ROOT, "bench", "results"), { recursive: true });
await writeFile(out, `${JSON.stringify({ machine, config: { quick, runs, durationMs, concurrency }, results: Object.fromEntries(MODES.map((m) => [m, spread(samples[m])])), errors }, null, 2)}\n`);
await killAll();
