/**
 * Start-up budget: time from spawn to the gateway port accepting TCP connections, and the
 * process's RSS 1.5 s later, for the compiled gateway (how `npm start` runs it) with no
 * channel configured, against a baseline process that only loads the same uWS binding and
 * listens (the floor of "a uWS server in Node").
 *
 *   node --import tsx bench/startup.ts            # 9 runs of each, alternating
 *   node --import tsx bench/startup.ts --quick    # 3 runs of each
 *   node --import tsx bench/startup.ts --runs 15 --cpu-prof   # + where start-up time goes
 *   node --import tsx bench/startup.ts --compare /path/to/other/build/src/cli/main.js   # + another build, alternating
 *
 * The gateway is started the way a user starts it (`clawdbot gateway --allow-unconfigured`)
 * in a fresh state dir and HOME, so no config, token or pairing state is reused.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { intArg, parseArgs } from "./lib/args.js";
import { buildDist } from "./lib/build-dist.js";
import { REPO_ROOT, track } from "./lib/children.js";
import { machineHeader, machineInfo } from "./lib/machine.js";
import { fmtSpread, formatTable, spread, type Spread } from "./lib/stats.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.switches.has("quick");
const runs = intArg(args, "runs", quick ? 3 : 9);
const cpuProf = args.switches.has("cpu-prof");
/** Another compiled CLI entry (e.g. a build of main) measured in the same runs, for before/after. */
const compare = args.values.get("compare");
/** RSS is read this long after the port first accepts. */
const RSS_AFTER_MS = 1500;
const START_TIMEOUT_MS = 20_000;

/** Goals of the start-up budget (docs/bench.md). */
const GOAL_MS = 300;
const GOAL_RSS_MB = 80;

interface Sample {
  readyMs: number;
  rssMb: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect to the port succeeds (polled every 2 ms). */
function waitAccepting(port: number, child: ChildProcess, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`process exited with ${child.exitCode} before listening`));
      if (performance.now() > deadline) return reject(new Error("port never accepted"));
      const sock = net.connect({ host: "127.0.0.1", port });
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        setTimeout(attempt, 2);
      });
    };
    attempt();
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function measure(argv: (port: number, dir: string) => string[], extraEnv: Record<string, string> = {}): Promise<Sample> {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-startup-"));
  const port = await freePort();
  const env = {
    ...process.env,
    HOME: dir,
    CLAWDBOT_STATE_DIR: join(dir, "state"),
    CLAWDBOT_SKIP_CHANNELS: "1",
    ...extraEnv,
  };
  const t0 = performance.now();
  const child = track(spawn(process.execPath, argv(port, dir), { cwd: REPO_ROOT, env, stdio: ["ignore", "ignore", "pipe"] }));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  try {
    await waitAccepting(port, child, t0 + START_TIMEOUT_MS);
    const readyMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, RSS_AFTER_MS));
    const pid = child.pid;
    if (pid === undefined) throw new Error("no pid");
    return { readyMs, rssMb: await rssMb(pid) };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${stderr.slice(0, 2000)}`);
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

const BASELINE_SOURCE = `
const { loadUws } = await import(${JSON.stringify(join(REPO_ROOT, "bench", ".build", "src", "shared", "uws", "load-uws.js"))});
const uws = loadUws();
const port = Number(process.argv[1]);
uws.App().ws("/*", {}).any("/*", (res) => res.end("ok")).listen("127.0.0.1", port, () => {});
process.on("SIGTERM", () => process.exit(0));
`;

async function main(): Promise<void> {
  process.stdout.write(`${machineHeader()}\n`);
  const { cliEntry, diagnostics } = await buildDist();
  if (diagnostics) process.stdout.write(`warning: tsc reported diagnostics (emitting anyway)\n`);
  const profDir = cpuProf ? await mkdtemp(join(tmpdir(), "clawgate-startup-prof-")) : null;
  const gateway = (port: number): string[] => [
    ...(profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : []),
    cliEntry,
    "gateway",
    "--allow-unconfigured",
    "--port",
    String(port),
  ];
  const baseline = (port: number): string[] => ["--input-type=module", "-e", BASELINE_SOURCE, String(port)];

  const other = (port: number): string[] => [compare ?? "", "gateway", "--allow-unconfigured", "--port", String(port)];

  const ours: Sample[] = [];
  const base: Sample[] = [];
  const compared: Sample[] = [];
  // Alternate so that drift on a shared machine hits both the same.
  for (let i = 0; i < runs; i++) {
    base.push(await measure(baseline));
    ours.push(await measure(gateway));
    if (compare) compared.push(await measure(other));
    const c = compared[i];
    process.stdout.write(
      `run ${i + 1}/${runs}: gateway ${ours[i]?.readyMs.toFixed(0)} ms ${ours[i]?.rssMb.toFixed(1)} MB · baseline ${base[i]?.readyMs.toFixed(0)} ms ${base[i]?.rssMb.toFixed(1)} MB` +
        `${c ? ` · compare ${c.readyMs.toFixed(0)} ms ${c.rssMb.toFixed(1)} MB` : ""}\n`,
    );
  }
  const s = (xs: Sample[], k: keyof Sample): Spread => spread(xs.map((x) => x[k]));
  const rows = [
    ["gateway (dist)", fmtSpread(s(ours, "readyMs")), fmtSpread(s(ours, "rssMb"), 1)],
    ["baseline (bare uWS listen)", fmtSpread(s(base, "readyMs")), fmtSpread(s(base, "rssMb"), 1)],
    ...(compare ? [[`compare (${compare})`, fmtSpread(s(compared, "readyMs")), fmtSpread(s(compared, "rssMb"), 1)]] : []),
  ];
  process.stdout.write(`\n${formatTable(["process", "spawn → accepting, ms", `RSS +${RSS_AFTER_MS} ms, MB`], rows)}\n`);
  const readyMedian = s(ours, "readyMs").median;
  const rssMedian = s(ours, "rssMb").median;
  process.stdout.write(
    `goal: < ${GOAL_MS} ms and < ${GOAL_RSS_MB} MB → ${readyMedian < GOAL_MS && rssMedian < GOAL_RSS_MB ? "met" : "NOT met"} ` +
      `(gateway − baseline: ${(readyMedian - s(base, "readyMs").median).toFixed(0)} ms, ${(rssMedian - s(base, "rssMb").median).toFixed(1)} MB)\n`,
  );
  if (profDir) {
    const files = (await readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
    process.stdout.write(`CPU profiles of the gateway runs: ${profDir} (${files.length} files; open in Chrome DevTools)\n`);
  }
  const outFile = join(REPO_ROOT, "bench", "results", quick ? "startup.quick.json" : "startup.json");
  await mkdir(join(outFile, ".."), { recursive: true });
  const json = {
    machine: machineInfo(),
    runs,
    gateway: { readyMs: s(ours, "readyMs"), rssMb: s(ours, "rssMb") },
    baseline: { readyMs: s(base, "readyMs"), rssMb: s(base, "rssMb") },
    ...(compare ? { compare: { cli: compare, readyMs: s(compared, "readyMs"), rssMb: s(compared, "rssMb") } } : {}),
    goal: { readyMs: GOAL_MS, rssMb: GOAL_RSS_MB },
  };
  await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results: ${outFile}\n`);
}

await main();
