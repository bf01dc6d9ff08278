/**
 * Single-instance lock per config path: `<tmpdir>/clawdbot-<uid>/gateway.<sha1(configPath)[0:8]>.lock`
 * holding the owner's pid. A lock whose pid is gone is stale and taken over.
 * `CLAWDBOT_ALLOW_MULTI_GATEWAY=1` skips it.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { GatewayError } from "../../shared/errors.js";

export function lockPath(configPath: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const hash = createHash("sha1").update(configPath).digest("hex").slice(0, 8);
  return join(os.tmpdir(), `clawdbot-${uid}`, `gateway.${hash}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface InstanceLock {
  path: string;
  release(): Promise<void>;
}

/** Acquires the lock or throws naming the pid that holds it. */
export async function acquireInstanceLock(configPath: string): Promise<InstanceLock> {
  const path = lockPath(configPath);
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { path, release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new GatewayError(
          "GW_ERR_SERVER_LISTEN",
          `another gateway (pid ${pid}) is already running with config ${configPath} (lock ${path}); stop it with 'clawdbot gateway stop' or 'kill ${pid}', or set CLAWDBOT_ALLOW_MULTI_GATEWAY=1`,
          { pid, lock: path },
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new GatewayError("GW_ERR_SERVER_LISTEN", `could not acquire the gateway lock ${path}`);
}
