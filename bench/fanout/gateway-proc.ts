/**
 * The gateway under test for `bench/fanout.ts`, run through its CLI in a child process
 * (`gateway --port P --allow-unconfigured --token T`) with a temp state dir and config that
 * survive restarts: a restart keeps the port, the paired devices and the config, like a
 * service restart would.
 *
 *   respawn  SIGTERM (graceful: shutdown event, 1012 closes), wait for exit, start a new
 *            process on the same port
 *   sigusr1  in-process restart (config `commands.restart: true`): same pid
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REPO_ROOT, track } from "../lib/children.js";

const LIB = join(dirname(fileURLToPath(import.meta.url)), "..", "lib");

export interface GatewayProcOptions {
  token: string;
  /** `hello-ok.policy.tickIntervalMs` (config `gateway.policy.tickIntervalMs`). */
  tickIntervalMs: number;
  /** Compiled CLI entry (bench/lib/build-dist.ts); default `src/cli/main.ts` through tsx. */
  cliEntry?: string;
  /** Extra node flags (e.g. --cpu-prof --cpu-prof-dir=…). */
  nodeArgs?: string[];
}

const LISTENING = /Gateway listening on ws:\/\/127\.0\.0\.1:(\d+)/;

export class GatewayProc {
  child: ChildProcess | null = null;
  port = 0;
  private out = "";

  private constructor(
    readonly dir: string,
    private readonly o: GatewayProcOptions,
  ) {}

  /** Creates the state dir and config, starts the gateway on a free port. */
  static async start(o: GatewayProcOptions): Promise<GatewayProc> {
    const dir = await mkdtemp(join(tmpdir(), "clawgate-fanout-"));
    const config = {
      gateway: { policy: { tickIntervalMs: o.tickIntervalMs } },
      commands: { restart: true },
      logging: { file: join(dir, "gateway.log") },
    };
    await writeFile(join(dir, "clawdbot.json"), JSON.stringify(config, null, 2));
    const g = new GatewayProc(dir, o);
    await g.spawn(0);
    return g;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Last output lines (for error messages). */
  tail(): string {
    return this.out.slice(-3000);
  }

  /** SIGTERM and wait for the exit (graceful; flushes a --cpu-prof profile). */
  async stop(timeoutMs = 15_000): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => {
        c.kill("SIGKILL");
        res();
      }, timeoutMs);
      c.once("exit", () => {
        clearTimeout(t);
        res();
      });
      c.kill("SIGTERM");
    });
  }

  /** Restarts on the same port; resolves when the new listener is up (epoch ms). */
  async restart(mode: "respawn" | "sigusr1"): Promise<{ signalledAt: number; listeningAt: number }> {
    const signalledAt = Date.now();
    if (mode === "sigusr1") {
      const before = (this.out.match(new RegExp(LISTENING.source, "g")) ?? []).length;
      this.child?.kill("SIGUSR1");
      await this.waitFor(() => (this.out.match(new RegExp(LISTENING.source, "g")) ?? []).length > before, 60_000);
      return { signalledAt, listeningAt: Date.now() };
    }
    await this.stop();
    await this.spawn(this.port);
    return { signalledAt, listeningAt: Date.now() };
  }

  /** Stops the gateway and removes its state. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async spawn(port: number): Promise<void> {
    const preload = ["--import", pathToFileURL(join(LIB, "die-with-parent.mjs")).href];
    const runtime = this.o.cliEntry === undefined ? ["--import", "tsx", ...preload, "src/cli/main.ts"] : [...preload, this.o.cliEntry];
    const args = [...(this.o.nodeArgs ?? []), ...runtime, "gateway", "--port", String(port), "--allow-unconfigured", "--token", this.o.token];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CLAWDBOT_STATE_DIR: join(this.dir, "state"),
      CLAWDBOT_CONFIG_PATH: join(this.dir, "clawdbot.json"),
      CLAWDBOT_DEVICE_IDENTITY_PATH: join(this.dir, "identity", "device.json"),
      CLAWDBOT_SKIP_CANVAS_HOST: "1",
    };
    for (const k of ["CLAWDBOT_GATEWAY_TOKEN", "CLAWDBOT_GATEWAY_PASSWORD", "CLAWDBOT_GATEWAY_PORT", "CLAWDBOT_PROFILE"]) delete env[k];
    this.out = "";
    const child = track(spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] }));
    this.child = child;
    const keep = (d: Buffer): void => {
      this.out = (this.out + d.toString("utf8")).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<never>((_, rej) =>
      child.once("exit", (code, sig) => rej(new Error(`gateway exited (code ${code}, signal ${sig}):\n${this.tail()}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([this.waitFor(() => LISTENING.test(this.out), 60_000), exited]);
    this.port = Number(LISTENING.exec(this.out)?.[1]);
  }

  private waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((res, rej) => {
      const end = Date.now() + timeoutMs;
      const check = (): void => {
        if (cond()) res();
        else if (Date.now() > end) rej(new Error(`gateway: timed out after ${timeoutMs} ms:\n${this.tail()}`));
        else setTimeout(check, 10);
      };
      check();
    });
  }
}
