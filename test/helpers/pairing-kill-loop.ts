/**
 * Shared by the pairing stores' kill -9 tests: runs a churn fixture (one JSON line per event:
 * `token`, `requested`, `rejected`, `ack` after each acknowledged flush), SIGKILLs it after a
 * random number of acknowledgements, and checks what reached disk against what was
 * acknowledged.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What every child so far minted, acknowledged, requested and rejected, keyed by record id. */
export class PairingKillLedger {
  /** Every token minted, per id, in order. */
  readonly minted = new Map<string, string[]>();
  /** Index into `minted` of the newest token known to be on disk (flush acknowledged). */
  readonly acked = new Map<string, number>();
  /** Ids whose pending request is known to be on disk. */
  readonly requestedAcked = new Set<string>();
  readonly rejected = new Set<string>();
}

/** Runs `fixture <dir>` once until the random kill; asserts it died by SIGKILL. */
export async function runChurnUntilKilled(opts: { fixture: string; dir: string; rand: () => number; idKey: "deviceId" | "nodeId"; ledger: PairingKillLedger }): Promise<void> {
  const { ledger, idKey } = opts;
  const child = spawn(process.execPath, ["--import", "tsx", opts.fixture, opts.dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const closed = once(lines, "close");
  const killAfterAcks = 1 + Math.floor(opts.rand() * 6);
  const delayMs = Math.floor(opts.rand() * 8);
  const touched = new Set<string>();
  const requested = new Set<string>();
  let acks = 0;
  lines.on("line", (line) => {
    const msg = JSON.parse(line) as { op: string; token?: string } & Record<string, unknown>;
    const id = typeof msg[idKey] === "string" ? (msg[idKey] as string) : undefined;
    if (msg.op === "token" && id !== undefined && msg.token !== undefined) {
      const list = ledger.minted.get(id) ?? [];
      list.push(msg.token);
      ledger.minted.set(id, list);
      touched.add(id);
    } else if (msg.op === "requested" && id !== undefined) {
      requested.add(id);
    } else if (msg.op === "rejected" && id !== undefined) {
      ledger.rejected.add(id);
    } else if (msg.op === "ack") {
      for (const d of touched) ledger.acked.set(d, (ledger.minted.get(d)?.length ?? 0) - 1);
      for (const d of requested) ledger.requestedAcked.add(d);
      touched.clear();
      requested.clear();
      if (++acks === killAfterAcks) setTimeout(() => child.kill("SIGKILL"), delayMs);
    }
  });
  const [code, signal] = await exited;
  await closed; // every line the child wrote before dying has been processed
  assert.equal(signal, "SIGKILL", `child ended by itself (code ${String(code)}): ${stderr}`);
}

/**
 * Everything acknowledged is on disk and never older than acknowledged; no token nobody
 * minted; and pending.json is never newer than paired.json — a request that reached disk is
 * still pending, approved, or was rejected, never silently gone.
 */
export function assertDiskMatchesLedger(
  ledger: PairingKillLedger,
  disk: { pairedTokens: Map<string, string | undefined>; pendingIds: Set<string> },
  iter: number,
): void {
  for (const [id, idx] of ledger.acked) {
    const onDisk = disk.pairedTokens.get(id);
    assert.ok(onDisk !== undefined, `iteration ${iter}: acknowledged ${id} missing`);
    assert.ok((ledger.minted.get(id) ?? []).slice(idx).includes(onDisk), `iteration ${iter}: ${id} token on disk is older than acknowledged`);
  }
  for (const [id, token] of disk.pairedTokens) {
    assert.ok((ledger.minted.get(id) ?? []).includes(token ?? ""), `iteration ${iter}: ${id} has a token nobody minted`);
  }
  for (const id of ledger.requestedAcked) {
    if (ledger.rejected.has(id)) continue;
    assert.ok(disk.pendingIds.has(id) || disk.pairedTokens.has(id), `iteration ${iter}: request of ${id} vanished without approval`);
  }
}
