import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AppendLog, readAppendLog, repairTornTail } from "../../src/shared/store/append-log.js";
import { GatewayError } from "../../src/shared/errors.js";
import { mulberry32 } from "../helpers/seeded-random.js";
import { tempDir } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = join(ROOT, "test/store/fixtures/append-log-child.ts");

test("appends of one tick share one write+fsync, later ones form the next commit", async (t) => {
  const file = join(tempDir(t), "sub", "log.jsonl");
  const log = await AppendLog.open<{ i: number }>(file);
  await Promise.all([log.append({ i: 1 }), log.append({ i: 2 }), log.appendMany([{ i: 3 }, { i: 4 }])]);
  assert.equal(log.commits, 1);
  await log.append({ i: 5 });
  assert.equal(log.commits, 2);
  await log.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const read = await readAppendLog<{ i: number }>(file);
  assert.deepEqual(read.records.map((r) => r.i), [1, 2, 3, 4, 5]);
  assert.equal(read.skipped, 0);
  assert.equal(read.tornTail, false);
  await assert.rejects(log.append({ i: 6 }), GatewayError);
});

test("appends made while a commit is in flight are batched into the following commit", async (t) => {
  const log = await AppendLog.open<{ i: number }>(join(tempDir(t), "log.jsonl"));
  const first = log.append({ i: 0 });
  await Promise.resolve();
  await Promise.resolve(); // the first commit has started writing
  const rest = Array.from({ length: 50 }, (_, i) => log.append({ i: i + 1 }));
  await Promise.all([first, ...rest]);
  assert.ok(log.commits <= 3, `50 appends during one commit took ${log.commits} commits`);
  await log.close();
});

test("a record past maxLineBytes is refused and nothing of its batch is written", async (t) => {
  const file = join(tempDir(t), "log.jsonl");
  const log = await AppendLog.open<{ s: string }>(file, { maxLineBytes: 100 });
  await assert.rejects(log.appendMany([{ s: "ok" }, { s: "y".repeat(200) }]), (err: unknown) => err instanceof GatewayError && err.code === "GW_ERR_STORE_WRITE_FAILED");
  await log.append({ s: "after" });
  await log.close();
  assert.deepEqual((await readAppendLog<{ s: string }>(file)).records, [{ s: "after" }]);
  // The reader bounds lines as well: an over-long line is skipped without being buffered.
  appendFileSync(file, `${JSON.stringify({ s: "z".repeat(300) })}\n${JSON.stringify({ s: "tail" })}\n`);
  const read = await readAppendLog<{ s: string }>(file, { maxLineBytes: 100 });
  assert.deepEqual(read.records, [{ s: "after" }, { s: "tail" }]);
  assert.equal(read.skipped, 1);
});

test("a torn last line is ignored by readers and cut off by open; garbage lines are skipped", async (t) => {
  const file = join(tempDir(t), "log.jsonl");
  writeFileSync(file, `{"a":1}\nnot json\n{"a":2}\n{"a":3,"trunc`);
  const read = await readAppendLog(file);
  assert.deepEqual(read.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(read.skipped, 1);
  assert.equal(read.tornTail, true);
  const log = await AppendLog.open(file);
  await log.append({ a: 4 });
  await log.close();
  assert.equal(readFileSync(file, "utf8"), `{"a":1}\nnot json\n{"a":2}\n{"a":4}\n`);
  assert.equal(await repairTornTail(file), 0);
  // A file that is one fragment without any newline (> one read chunk) is emptied.
  writeFileSync(file, "q".repeat(200_000));
  assert.equal(await repairTornTail(file), 200_000);
  assert.equal(readFileSync(file, "utf8"), "");
  assert.deepEqual(await readAppendLog(join(tempDir(t), "missing.jsonl")), { records: [], skipped: 0, tornTail: false });
});

/** Runs the child until it has acknowledged a random number of records, then SIGKILLs it. */
async function runUntilKilled(file: string, firstId: number, rand: () => number): Promise<number[]> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, String(firstId)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const closed = once(lines, "close");
  const killAfter = 1 + Math.floor(rand() * 40);
  const acked: number[] = [];
  lines.on("line", (line) => {
    acked.push((JSON.parse(line) as { ack: number }).ack);
    if (acked.length === killAfter) setTimeout(() => child.kill("SIGKILL"), Math.floor(rand() * 5));
  });
  const [code, signal] = await exited;
  await closed;
  assert.equal(signal, "SIGKILL", `child ended by itself (code ${String(code)}): ${stderr}`);
  return acked;
}

test("kill -9 loop: every acknowledged record survives, the tail is repaired, order is kept", async (t) => {
  const seed = Number(process.env.APPEND_LOG_SEED ?? Date.now() % 100000);
  const rand = mulberry32(seed);
  const file = join(tempDir(t), "log.jsonl");
  const acked = new Set<number>();
  let next = 0;
  for (let iter = 0; iter < 6; iter++) {
    for (const n of await runUntilKilled(file, next, rand)) acked.add(n);
    const before = await readAppendLog<{ n: number }>(file);
    const seen = before.records.map((r) => r.n);
    for (const n of acked) assert.ok(seen.includes(n), `seed ${seed} iteration ${iter}: acknowledged record ${n} lost`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `seed ${seed}: records out of order or duplicated`);
    assert.equal(before.skipped, 0, `seed ${seed}: corrupt complete line`);
    // Reopening repairs whatever tail the kill left; the file then reads cleanly.
    await (await AppendLog.open(file)).close();
    const after = await readAppendLog<{ n: number }>(file);
    assert.equal(after.tornTail, false);
    assert.deepEqual(after.records.map((r) => r.n), seen);
    next = (seen.at(-1) ?? next) + 1000;
  }
});
