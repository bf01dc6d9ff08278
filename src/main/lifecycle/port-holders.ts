/**
 * Who listens on a TCP port, via `lsof` (the runbook's `--force` contract), and
 * terminating them: SIGTERM, wait up to 2 s, then SIGKILL.
 */
import { execFile } from "node:child_process";
import { GatewayError } from "../../shared/errors.js";

export interface PortHolder {
  pid: number;
  command: string;
}

/** Listeners on `port`; throws a coded error when `lsof` is missing. */
export function findPortHolders(port: number): Promise<PortHolder[]> {
  return new Promise((resolve, reject) => {
    execFile("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"], { timeout: 5000 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new GatewayError("GW_ERR_SERVER_LISTEN", "--force needs lsof to find what listens on the port, and lsof is not installed (Debian/Ubuntu: apt-get install lsof; macOS ships it)"));
        return;
      }
      // lsof exits 1 when nothing matches.
      const holders: PortHolder[] = [];
      let cur: PortHolder | null = null;
      for (const line of stdout.split("\n")) {
        if (line.startsWith("p")) {
          cur = { pid: Number(line.slice(1)), command: "" };
          holders.push(cur);
        } else if (line.startsWith("c") && cur) {
          cur.command = line.slice(1);
        }
      }
      resolve(holders.filter((h) => Number.isInteger(h.pid) && h.pid > 0));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERMs every holder (never ourselves), escalating to SIGKILL after `graceMs`. Returns who was signalled. */
export async function terminatePortHolders(port: number, graceMs = 2000): Promise<PortHolder[]> {
  const holders = (await findPortHolders(port)).filter((h) => h.pid !== process.pid);
  for (const h of holders) {
    try {
      process.kill(h.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (holders.some((h) => alive(h.pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const h of holders) {
    if (alive(h.pid)) {
      try {
        process.kill(h.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  return holders;
}
