/**
 * Single-instance lock per config path: `<tmpdir>/clawdbot-<uid>/gateway.<sha1(configPath)[0:8]>.lock`.
 * `CLAWDBOT_ALLOW_MULTI_GATEWAY=1` skips it.
 *
 * The directory must be ours (see private-dir.ts): in a shared temp dir another user could
 * otherwise create it first and plant locks. The lock holds `{pid, startTime, argv0}`; it is
 * honoured only while that pid is alive, started at the recorded time (a reused pid after a
 * crash has another start time) and runs a gateway command line. Anything else is stale and
 * taken over. Start time: `/proc/<pid>/stat` field 22 on Linux, `ps -o lstart=` elsewhere.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { GatewayError } from "../../shared/errors.js";
import { ensurePrivateDir } from "../../shared/private-dir.js";

export function lockPath(configPath: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const hash = createHash("sha1").update(configPath).digest("hex").slice(0, 8);
  return join(os.tmpdir(), `clawdbot-${uid}`, `gateway.${hash}.lock`);
}

/** What a lock file records. `startTime` is opaque (compared for equality only). */
export interface LockRecord {
  pid: number;
  startTime?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function runPs(args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("ps", args, { timeout: 2000 }, (err, stdout) => resolve(err ? undefined : stdout.trim() || undefined));
  });
}

/** The start time of `pid` as an opaque string, or undefined when it cannot be read. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (process.platform === "linux") {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    if (stat === undefined) return undefined;
    // Fields after "(comm)" (which may contain spaces and parentheses) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  }
  if (process.platform === "win32") return undefined;
  return runPs(["-o", "lstart=", "-p", String(pid)]);
}

/** The command line of `pid` (arguments), or undefined when it cannot be read. */
export async function processCommandLine(pid: number): Promise<string[] | undefined> {
  if (process.platform === "linux") {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
    return raw === undefined ? undefined : raw.split("\0").filter((a) => a !== "");
  }
  if (process.platform === "win32") return undefined;
  const cmd = await runPs(["-o", "command=", "-p", String(pid)]);
  return cmd === undefined ? undefined : cmd.split(/\s+/);
}

/** True for a gateway's command line: the clawdbot/clawgate CLI (or its entry file) running `gateway`. */
export function looksLikeGatewayCommand(argv: readonly string[]): boolean {
  const cli = argv.some((a) => /(?:^|[/\\])(?:clawdbot|clawgate)(?:\.[cm]?js)?$|[/\\]cli[/\\](?:main|entry)\.[cm]?[jt]s$/.test(a));
  return cli && argv.includes("gateway");
}

/** Parses a lock file: JSON `{pid, startTime}` or (older releases) a bare pid. */
export function parseLockRecord(text: string): LockRecord | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const v = JSON.parse(t) as { pid?: unknown; startTime?: unknown };
    if (typeof v.pid !== "number" || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    return typeof v.startTime === "string" ? { pid: v.pid, startTime: v.startTime } : { pid: v.pid };
  } catch {
    return undefined;
  }
}

/** True when `rec` names a live gateway (not a dead pid, a reused pid, or another program). */
export async function lockHolderIsLive(rec: LockRecord): Promise<boolean> {
  if (rec.pid === process.pid || !alive(rec.pid)) return false;
  if (rec.startTime !== undefined) {
    const now = await processStartTime(rec.pid);
    if (now !== undefined && now !== rec.startTime) return false;
  }
  const argv = await processCommandLine(rec.pid);
  return argv === undefined || looksLikeGatewayCommand(argv);
}

export interface InstanceLock {
  path: string;
  release(): Promise<void>;
}

/** Thrown when a live gateway holds the lock (exit 78: waiting will not help). */
export class LockHeldError extends GatewayError {
  /** Read by `exitCodeFor`: a supervisor restart cannot fix this. */
  readonly permanent = true;
  constructor(
    message: string,
    readonly holderPid: number,
    readonly lock: string,
  ) {
    super("GW_ERR_SERVER_LISTEN", message, { pid: holderPid, lock });
  }
}

/** Acquires the lock or throws `LockHeldError` naming the pid that holds it. */
export async function acquireInstanceLock(configPath: string): Promise<InstanceLock> {
  const path = lockPath(configPath);
  await ensurePrivateDir(join(path, ".."));
  const record = JSON.stringify({ pid: process.pid, startTime: await processStartTime(process.pid) });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(`${record}\n`);
      await fh.close();
      return { path, release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const rec = parseLockRecord(await readFile(path, "utf8").catch(() => ""));
      if (rec !== undefined && (await lockHolderIsLive(rec))) {
        throw new LockHeldError(
          `another gateway (pid ${rec.pid}) is already running with config ${configPath} (lock ${path}); stop it with 'clawdbot gateway stop' or 'kill ${rec.pid}', or set CLAWDBOT_ALLOW_MULTI_GATEWAY=1`,
          rec.pid,
          path,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new GatewayError("GW_ERR_SERVER_LISTEN", `could not acquire the gateway lock ${path}`);
}
