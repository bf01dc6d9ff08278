/**
 * HTTP dispatch cost: `GET /healthz` answered by a direct uWS `app.get` route (how the gateway
 * routed before the mount table) vs the mount table's single `app.any("/*")` dispatcher
 * (src/main/http/routes.ts), vs one uWS route per table entry registered in table order.
 * The table holds a realistic §7.1 set (probes, hooks, tools, two OpenAI endpoints, A2UI,
 * canvas, a Control UI catch-all); `/ui/page` is answered by the last entry (worst case walk).
 * Every app also has the gateway's `ws("/*")` route, which yields non-upgrade GETs.
 *
 *   node --import tsx bench/http-dispatch.ts            # 3 rounds × 3 s per case
 *   node --import tsx bench/http-dispatch.ts --quick    # 1 round × 2 s
 *
 * Servers run in this process; autocannon runs as a child (its own core). Cases alternate
 * within each round; the table shows the median of rounds with min–max. Writes
 * bench/results/http-dispatch.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HttpResponse, TemplatedApp, us_listen_socket } from "uWebSockets.js";
import pino from "pino";
import { loadUws } from "../src/shared/uws/load-uws.js";
import { HttpMountTable } from "../src/main/http/mount-table.js";
import { dispatch } from "../src/main/http/routes.js";
import { intArg, parseArgs } from "./lib/args.js";
import { REPO_ROOT } from "./lib/children.js";
import { machineHeader } from "./lib/machine.js";
import { fmtSpread, formatTable, spread, type Spread } from "./lib/stats.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const rounds = intArg(args, "rounds", quick ? 1 : 3);
const seconds = intArg(args, "seconds", quick ? 2 : 3);
const connections = intArg(args, "connections", 32);

const uws = loadUws();

function json(res: HttpResponse, body: string): void {
  res.cork(() => {
    res.writeStatus("200 OK").writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(body);
  });
}
const health = (res: HttpResponse): void => json(res, `{"ok":true,"uptimeMs":${Math.floor(process.uptime() * 1000)}}`);
const other = (res: HttpResponse): void => json(res, "{}");
const notFound = (res: HttpResponse): void => {
  res.writeStatus("404 Not Found").end("{}");
};

function withWs(app: TemplatedApp): TemplatedApp {
  return app.ws("/*", {
    upgrade: (res) => {
      res.writeStatus("400 Bad Request").end();
    },
  });
}

function fullTable(): HttpMountTable {
  const t = new HttpMountTable();
  t.mount({ stage: "probes", path: { exact: "/healthz" }, methods: ["GET"], otherMethods: "next", handler: health });
  t.mount({ stage: "probes", path: { exact: "/readyz" }, methods: ["GET"], otherMethods: "next", handler: other });
  t.mount({ stage: "hooks", path: { prefix: "/hooks" }, enabled: () => true, handler: other });
  t.mount({ stage: "tools", path: { exact: "/tools/invoke" }, methods: ["POST"], handler: other });
  t.mount({ stage: "responses", path: { exact: "/v1/responses" }, methods: ["POST"], enabled: () => false, handler: other });
  t.mount({ stage: "chat-completions", path: { exact: "/v1/chat/completions" }, methods: ["POST"], enabled: () => false, handler: other });
  t.mount({ stage: "a2ui", path: { prefix: "/__clawdbot__/a2ui" }, methods: ["GET", "HEAD"], handler: other });
  t.mount({ stage: "canvas", path: { prefix: "/__clawdbot__/canvas" }, methods: ["GET", "HEAD"], handler: other });
  t.mount({ stage: "control-ui", path: { prefix: "/" }, methods: ["GET", "HEAD"], handler: other });
  return t;
}

function listen(app: TemplatedApp): Promise<number> {
  return new Promise((resolve, reject) => {
    app.listen("127.0.0.1", 0, (ls: us_listen_socket | false) => {
      if (ls) resolve(uws.us_socket_local_port(ls));
      else reject(new Error("listen failed"));
    });
  });
}

async function servers(): Promise<Record<string, number>> {
  const log = pino({ level: "silent" });
  const direct = withWs(uws.App());
  direct.get("/healthz", health);
  direct.get("/ui/page", other);
  direct.any("/*", notFound);

  const table = fullTable();
  const dispatched = withWs(uws.App());
  dispatched.any("/*", (res, req) => dispatch(table, res, req, log));

  // One uWS route per entry, in table order (uWS ranks by pattern, not by this order).
  const ordered = withWs(uws.App());
  ordered.get("/healthz", health);
  ordered.get("/readyz", other);
  ordered.any("/hooks/*", other);
  ordered.post("/tools/invoke", other);
  ordered.get("/__clawdbot__/a2ui/*", other);
  ordered.get("/__clawdbot__/canvas/*", other);
  ordered.get("/*", other);
  ordered.any("/*", notFound);

  return { direct: await listen(direct), table: await listen(dispatched), "uws-ordered": await listen(ordered) };
}

interface Result {
  rps: number;
  /** Server CPU time (user + system of this process, which only runs the servers) per request, µs. Less sensitive to a loaded machine than req/s. */
  cpuUs: number;
  p50: number;
  p99: number;
  non2xx: number;
}

function cannon(url: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const bin = join(REPO_ROOT, "node_modules", "autocannon", "autocannon.js");
    const cpu0 = process.cpuUsage();
    const child = spawn(process.execPath, [bin, "-j", "-c", String(connections), "-d", String(seconds), url], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const cpu = process.cpuUsage(cpu0);
      const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number };
      resolve({ rps: r.requests.average, cpuUs: (cpu.user + cpu.system) / Math.max(1, r.requests.total), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx });
    });
  });
}

const ports = await servers();
const cases: [string, string][] = [
  ["direct", "/healthz"],
  ["table", "/healthz"],
  ["uws-ordered", "/healthz"],
  ["direct", "/ui/page"],
  ["table", "/ui/page"],
  ["uws-ordered", "/ui/page"],
];
const runs = new Map<string, Result[]>();
for (let r = 0; r < rounds; r++) {
  for (const [variant, path] of cases) {
    const res = await cannon(`http://127.0.0.1:${ports[variant]}${path}`);
    if (res.non2xx > 0) throw new Error(`${variant} ${path}: ${res.non2xx} non-2xx answers`);
    const key = `${variant} ${path}`;
    runs.set(key, [...(runs.get(key) ?? []), res]);
  }
}
const summary: Record<string, { rps: Spread; cpuUs: Spread; p99: Spread }> = {};
const rows = [...runs].map(([key, rs]) => {
  const s = { rps: spread(rs.map((x) => x.rps)), cpuUs: spread(rs.map((x) => x.cpuUs)), p99: spread(rs.map((x) => x.p99)) };
  summary[key] = s;
  return [key, fmtSpread(s.rps), fmtSpread(s.cpuUs, 1), fmtSpread(s.p99)];
});
console.log(machineHeader());
console.log(`http-dispatch: ${rounds} round(s) × ${seconds} s, ${connections} connections`);
console.log(formatTable(["case", "req/s median (min–max)", "server CPU µs/req", "p99 ms"], rows));
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/http-dispatch.json", import.meta.url), JSON.stringify({ node: process.version, date: new Date().toISOString(), rounds, seconds, connections, summary }, null, 2));
process.exit(0);
