/**
 * Child processes of a bench (gateway, baseline server, load generators) and the rules
 * that keep them from outliving it: every child is registered; normal exit, errors,
 * SIGINT/SIGTERM and the global time budget all kill what is left (SIGTERM, then SIGKILL
 * after a grace period); children we write ourselves also exit on IPC disconnect, and
 * the gateway CLI is preloaded with die-with-parent.mjs.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (bench/lib/../..). */
export const REPO_ROOT = resolve(here, "..", "..");

const live = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

/** Tracks a child until it exits. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** SIGTERM every live child, SIGKILL the ones still alive after `graceMs`. */
export async function killAll(graceMs = 3000): Promise<void> {
  const pending = [...live].map(
    (c) =>
      new Promise<void>((res) => {
        if (c.exitCode !== null || c.signalCode !== null) return res();
        const t = setTimeout(() => {
          c.kill("SIGKILL");
          res();
        }, graceMs);
        c.once("exit", () => {
          clearTimeout(t);
          res();
        });
        c.kill("SIGTERM");
      }),
  );
  await Promise.all(pending);
  for (const fn of cleanups.splice(0)) await fn().catch(() => undefined);
}

let installed = false;
/**
 * Installs exit/signal/error handlers and a hard time budget for the whole script.
 * Past the budget the bench prints why, kills its children and exits 1.
 */
export function guardProcess(budgetMs: number): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
  const bail = (why: string, code: number): void => {
    process.stderr.write(`\n${why}\n`);
    void killAll(1000).finally(() => process.exit(code));
  };
  process.on("SIGINT", () => bail("interrupted", 130));
  process.on("SIGTERM", () => bail("terminated", 143));
  process.on("uncaughtException", (err) => bail(`fatal: ${err.stack ?? err.message}`, 1));
  process.on("unhandledRejection", (err) => bail(`fatal (unhandled rejection): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1));
  setTimeout(() => bail(`bench exceeded its time budget of ${Math.round(budgetMs / 1000)} s; aborting`, 1), budgetMs).unref();
}

/** Node args to run a TypeScript entry: tsx loader (+ extra preloads). */
function tsExecArgv(extra: string[] = []): string[] {
  return ["--import", "tsx", ...extra];
}

/** Forks a bench-owned TypeScript module with an IPC channel. */
export function forkTs(modulePath: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return track(
    fork(modulePath, [], {
      cwd: REPO_ROOT,
      execArgv: tsExecArgv(),
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
}

export interface SpawnedGateway {
  url: string;
  port: number;
  pid: number;
  token: string;
  stateDir: string;
  child: ChildProcess;
  /** Last lines of its stdout/stderr (for error messages). */
  tail(): string;
  /** SIGTERM, wait for exit (graceful: flushes a --cpu-prof profile), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface GatewaySpawnOptions {
  token: string;
  /** Compiled CLI entry (see build-dist.ts); default: `src/cli/main.ts` through tsx. */
  cliEntry?: string;
  /** Extra node flags for the gateway process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /** Extra config (merged over the bench's `logging` block). */
  config?: Record<string, unknown>;
}

/** The caller's environment minus anything that would change the gateway's auth or paths. */
function gatewayEnv(stateDir: string, configPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CLAWDBOT_STATE_DIR: stateDir, CLAWDBOT_CONFIG_PATH: configPath, CLAWDBOT_SKIP_CANVAS_HOST: "1" };
  for (const k of ["CLAWDBOT_GATEWAY_TOKEN", "CLAWDBOT_GATEWAY_PASSWORD", "CLAWDBOT_GATEWAY_PORT", "CLAWDBOT_PROFILE"]) delete env[k];
  return env;
}

/**
 * Starts the production gateway through its CLI (`gateway --port 0 --allow-unconfigured
 * --token …`) with a temp state dir and config (file log inside it, canvas host off), and
 * waits for `Gateway listening on ws://…`.
 */
export async function spawnGateway(o: GatewaySpawnOptions): Promise<SpawnedGateway> {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-bench-"));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const configPath = join(stateDir, "clawdbot.json");
  await writeFile(configPath, JSON.stringify({ logging: { file: join(stateDir, "gateway.log") }, ...o.config }));
  const preload = ["--import", pathToFileURL(join(here, "die-with-parent.mjs")).href];
  const runtime = o.cliEntry === undefined ? [...tsExecArgv(preload), "src/cli/main.ts"] : [...preload, o.cliEntry];
  const args = [...(o.nodeArgs ?? []), ...runtime, "gateway", "--port", "0", "--allow-unconfigured", "--token", o.token];
  const child = track(
    spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: gatewayEnv(stateDir, configPath),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let out = "";
  const keep = (d: Buffer): void => {
    out = (out + d.toString("utf8")).slice(-8000);
  };
  child.stderr?.on("data", keep);
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`gateway did not start within ${o.startTimeoutMs ?? 30_000} ms:\n${out}`)), o.startTimeoutMs ?? 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      keep(d);
      const m = /Gateway listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.once("exit", (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`gateway exited during startup (code ${code}, signal ${sig}):\n${out}`));
    });
  });
  if (child.pid === undefined) throw new Error("gateway has no pid");
  const pid = child.pid;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    pid,
    token: o.token,
    stateDir,
    child,
    tail: () => out,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          res();
        }, 10_000);
        child.once("exit", () => {
          clearTimeout(t);
          res();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
