/**
 * HTTP on the gateway port vs a bare uWS server, and the cost of a `/metrics` scrape.
 *
 *   node --import tsx bench/http.ts            # 3 rounds × 3 s per case, 10,000 sockets
 *   node --import tsx bench/http.ts --quick    # 1 round × 2 s
 *   options: --rounds N --seconds S --connections C --sockets N --scrapes N
 *
 * The gateway runs from the tsc build in bench/.build (lib/build-dist.ts), like `npm start`.
 *
 * 1. autocannon (a child process) against `GET /healthz` and a static asset (an 8 KiB
 *    script served from memory by an entry at the `control-ui` stage, as the Control UI
 *    serves its bundle) on a real gateway (`startGateway`, production composition), and
 *    against a bare uWS app answering the same bytes. Goal: the gateway ≥ 80 % of the bare
 *    server's req/s. Cases alternate within each round; medians with min–max.
 * 2. `GET /metrics` latency (sequential scrapes on one keep-alive connection, after one
 *    warm-up scrape that loads prom-client) with N authenticated sockets open (goal:
 *    < 5 ms median at 10,000). The sockets are raw protocol-3 clients in this process;
 *    they are idle during the scrapes.
 *
 * Writes bench/results/http.json (http.quick.json with --quick).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpResponse, us_listen_socket } from "uWebSockets.js";
import pino from "pino";
import { loadUws } from "../src/shared/uws/load-uws.js";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, buildDist } from "./lib/build-dist.js";
import { loopbackGatewayOptions } from "./lib/gateway-options.js";
import { intArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT, forkTs, guardProcess, killAll } from "./lib/children.js";
import { machineHeader } from "./lib/machine.js";
import { fmtSpread, formatTable, spread, type Spread } from "./lib/stats.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const rounds = intArg(args, "rounds", quick ? 1 : 3);
const seconds = intArg(args, "seconds", quick ? 2 : 3);
const connections = intArg(args, "connections", 32);
const socketCount = intArg(args, "sockets", 10_000);
const scrapes = intArg(args, "scrapes", quick ? 30 : 100);
guardProcess(10 * 60_000);

const TOKEN = "bench-http-token-0123456789abcdef";
const ASSET = Buffer.from(`/* bench asset */\n${"console.log('x');\n".repeat(455)}`.slice(0, 8192));
const ASSET_HEADERS: Record<string, string> = { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=31536000, immutable" };
const uws = loadUws();

function serveAsset(res: HttpResponse): void {
  res.cork(() => {
    res.writeStatus("200 OK");
    for (const [k, v] of Object.entries(ASSET_HEADERS)) res.writeHeader(k, v);
    res.end(ASSET);
  });
}

async function bareServer(): Promise<number> {
  const app = uws.App();
  app.get("/healthz", (res) => {
    res.cork(() => {
      res.writeStatus("200 OK").writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(`{"ok":true,"uptimeMs":${Math.floor(process.uptime() * 1000)}}`);
    });
  });
  app.get("/assets/app.js", serveAsset);
  return new Promise((resolve, reject) => {
    app.listen("127.0.0.1", 0, (ls: us_listen_socket | false) => (ls ? resolve(uws.us_socket_local_port(ls)) : reject(new Error("listen failed"))));
  });
}

interface Result {
  rps: number;
  p99: number;
  non2xx: number;
}

function cannon(url: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const bin = join(REPO_ROOT, "node_modules", "autocannon", "autocannon.js");
    const child = spawn(process.execPath, [bin, "-j", "-c", String(connections), "-d", String(seconds), url], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
      resolve({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx });
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function scrape(port: number): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port, path: "/metrics", agent, headers: { authorization: `Bearer ${TOKEN}` }, timeout: 10_000 }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error(`/metrics answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

// The gateway runs from the tsc build, as `npm start` runs it (tsx wraps every closure
// created per request in `__name(…)`, a cost production never pays; see lib/build-dist.ts).
await buildDist();
const { startGateway } = (await import(pathToFileURL(join(BUILD_DIR, "src/main/gateway.js")).href)) as typeof import("../src/main/gateway.js");
const { DEFAULT_POLICY } = (await import(pathToFileURL(join(BUILD_DIR, "src/main/options.js")).href)) as typeof import("../src/main/options.js");
const stateDir = await mkdtemp(join(tmpdir(), "clawgate-bench-http-"));
const gw = await startGateway(
  loopbackGatewayOptions(stateDir, TOKEN, DEFAULT_POLICY, { handshakeTimeoutMs: 30_000, preAuthMaxPerIp: 100_000, preAuthMaxTotal: 100_000 }),
  pino({ level: "silent" }),
  { http: { register: (table) => table.mount({ stage: "control-ui", path: { exact: "/assets/app.js" }, methods: ["GET", "HEAD"], handler: serveAsset }) } },
);
const ports: Record<string, number> = { gateway: gw.server.port, bare: await bareServer() };

// 1. req/s, gateway vs bare uWS.
const cases: [string, string][] = [
  ["bare", "/healthz"],
  ["gateway", "/healthz"],
  ["bare", "/assets/app.js"],
  ["gateway", "/assets/app.js"],
];
const runs = new Map<string, Result[]>();
for (let r = 0; r < rounds; r++) {
  for (const [target, path] of cases) {
    const res = await cannon(`http://127.0.0.1:${ports[target]}${path}`);
    if (res.non2xx > 0) throw new Error(`${target} ${path}: ${res.non2xx} non-2xx answers`);
    const key = `${target} ${path}`;
    runs.set(key, [...(runs.get(key) ?? []), res]);
  }
}
const rps: Record<string, { rps: Spread; p99: Spread }> = {};
for (const [key, rs] of runs) rps[key] = { rps: spread(rs.map((x) => x.rps)), p99: spread(rs.map((x) => x.p99)) };
const ratio = (path: string): number => rps[`gateway ${path}`]!.rps.median / rps[`bare ${path}`]!.rps.median;

// 2. /metrics with N sockets open.
await scrape(ports.gateway!); // loads prom-client
const idle: number[] = [];
for (let i = 0; i < scrapes; i++) idle.push((await scrape(ports.gateway!)).ms);
// The clients live in a child process: in this one, client and server ends would need two
// file descriptors per connection.
const holder = forkTs(join(REPO_ROOT, "bench", "lib", "socket-holder.ts"), { HOLD_URL: `ws://127.0.0.1:${ports.gateway}/`, HOLD_TOKEN: TOKEN, HOLD_COUNT: String(socketCount) });
const held = await new Promise<{ ready: number; openMs: number }>((resolve, reject) => {
  holder.once("message", (m: { ready?: number; openMs?: number; error?: string }) => (m.error !== undefined ? reject(new Error(m.error)) : resolve({ ready: m.ready ?? 0, openMs: m.openMs ?? 0 })));
  holder.once("exit", (code) => reject(new Error(`socket holder exited ${code}`)));
});
const sockets = { length: held.ready };
const openMs = held.openMs;
const loaded: number[] = [];
let bytes = 0;
for (let i = 0; i < scrapes; i++) {
  const s = await scrape(ports.gateway!);
  loaded.push(s.ms);
  bytes = s.bytes;
}
const idleS = spread(idle);
const loadedS = spread(loaded);
const sorted = [...loaded].sort((a, b) => a - b);
const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;

console.log(machineHeader());
console.log(`http: ${rounds} round(s) × ${seconds} s, ${connections} connections (autocannon in a child process)`);
console.log(formatTable(["case", "req/s median (min–max)", "p99 ms"], [...Object.entries(rps)].map(([k, v]) => [k, fmtSpread(v.rps), fmtSpread(v.p99)])));
console.log(`gateway / bare: /healthz ${(ratio("/healthz") * 100).toFixed(0)} %, /assets/app.js ${(ratio("/assets/app.js") * 100).toFixed(0)} % (goal ≥ 80 %)`);
console.log(`/metrics (${bytes} bytes): 0 sockets median ${idleS.median.toFixed(2)} ms; ${sockets.length} sockets open (opened in ${(openMs / 1000).toFixed(1)} s) median ${loadedS.median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${loadedS.max.toFixed(2)} ms (goal < 5 ms)`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(quick ? "./results/http.quick.json" : "./results/http.json", import.meta.url),
  JSON.stringify({ node: process.version, date: new Date().toISOString(), rounds, seconds, connections, rps, ratio: { healthz: ratio("/healthz"), asset: ratio("/assets/app.js") }, metrics: { sockets: sockets.length, idle: idleS, loaded: loadedS, p99, bytes } }, null, 2),
);
await killAll(2000);
await gw.stop();
await rm(stateDir, { recursive: true, force: true });
process.exit(0);
