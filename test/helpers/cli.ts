/**
 * Runs the real `clawdbot` CLI (src/cli/entry.ts through tsx) as a child process with
 * an isolated HOME, state dir and config path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The executable's entry (installs the early SIGUSR1 handler, then loads main.ts). */
export const CLI_ENTRY = join(ROOT, "src", "cli", "entry.ts");
const CLI = CLI_ENTRY;

export interface CliEnv {
  home: string;
  stateDir: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
  writeConfig(config: unknown): Promise<void>;
}

/** A temp HOME with state dir and config path inside it. */
export async function makeCliEnv(extra: NodeJS.ProcessEnv = {}): Promise<CliEnv> {
  const home = await mkdtemp(join(tmpdir(), "clawgate-cli-"));
  const stateDir = join(home, ".clawdbot");
  const configPath = join(stateDir, "clawdbot.json");
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    CLAWDBOT_STATE_DIR: stateDir,
    CLAWDBOT_CONFIG_PATH: configPath,
    CLAWDBOT_DEVICE_IDENTITY_PATH: join(home, ".clawdbot", "identity", "device.json"),
    CLAWDBOT_SKIP_CANVAS_HOST: "1",
    CLAWDBOT_ALLOW_MULTI_GATEWAY: "0",
    NO_COLOR: "1",
    ...extra,
  };
  return {
    home,
    stateDir,
    configPath,
    env,
    cleanup: () => rm(home, { recursive: true, force: true }),
    writeConfig: (config) => writeFile(configPath, typeof config === "string" ? config : JSON.stringify(config, null, 2)),
  };
}

export interface CliProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout/stderr line matching `re`. */
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves once `n` lines (counted from the start) matched `re`. */
  waitCount(re: RegExp, n: number, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns `clawdbot <args>`; the child is killed when the test ends (t.after). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, t?: { after: (fn: () => void) => void }): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onLine = (sink: string[]) => {
    let partial = "";
    return (chunk: Buffer): void => {
      const text = partial + chunk.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        sink.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const m = waiters[i]!.re.exec(line);
          if (m) {
            waiters[i]!.resolve(m);
            waiters.splice(i, 1);
          }
        }
      }
    };
  };
  child.stdout!.on("data", onLine(stdout));
  child.stderr!.on("data", onLine(stderr));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return {
    child,
    stdout,
    stderr,
    exited,
    kill: (signal = "SIGTERM") => void child.kill(signal),
    async waitCount(re, n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      const count = (): number => [...stdout, ...stderr].filter((l) => re.test(l)).length;
      while (count() < n) {
        if (Date.now() > deadline) throw new Error(`fewer than ${n} lines matching ${re}\n${stdout.join("\n")}\n${stderr.join("\n")}`);
        await new Promise<void>((r) => {
          const done = (): void => {
            child.stdout!.off("data", done);
            child.stderr!.off("data", done);
            clearTimeout(timer);
            r();
          };
          const timer = setTimeout(done, 250);
          child.stdout!.once("data", done);
          child.stderr!.once("data", done);
        });
      }
    },
    waitLine(re, timeoutMs = 20_000) {
      for (const line of [...stdout, ...stderr]) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${re} within ${timeoutMs} ms\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, env);
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  // Let the pipes flush their last chunk.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdout.join("\n"), stderr: p.stderr.join("\n") };
}

/** Starts `clawdbot gateway` and resolves once it listens. */
export async function startCliGateway(
  args: string[],
  env: NodeJS.ProcessEnv,
  t?: { after: (fn: () => void) => void },
  globalArgs: string[] = [],
): Promise<CliProcess & { port: number; url: string }> {
  const p = spawnCli([...globalArgs, "gateway", ...args], env, t);
  const m = await p.waitLine(/Gateway listening on ws:\/\/[^:]+:(\d+)/);
  const port = Number(m[1]);
  return Object.assign(p, { port, url: `ws://127.0.0.1:${port}` });
}

/** Token of the gateways started by `localGatewayEnv`. */
export const LOCAL_TOKEN = "lifecycle-token-0123456789abcdef";

/** A CLI env whose config runs a local gateway with LOCAL_TOKEN (plus `config`), cleaned up after the test. */
export async function localGatewayEnv(t: { after: (fn: () => Promise<void>) => void }, config: Record<string, unknown>): Promise<CliEnv> {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  await env.writeConfig({ gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, reload: { debounceMs: 50 } }, ...config });
  return env;
}
