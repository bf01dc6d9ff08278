import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync, writeFileSync, readdirSync, existsSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, removeStaleTempFiles, writeFileAtomic, writeJsonAtomic } from "../../src/shared/store/atomic-json.js";
import { JsonFileWriter, WriteBehindQueue } from "../../src/shared/store/write-behind.js";
import { GatewayError } from "../../src/shared/errors.js";
import { tempDir } from "../helpers/temp-dir.js";

const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** A promise plus its resolver, to wait for events instead of time. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test("writeJsonAtomic creates parents 0700, a 0600 pretty JSON file, and leaves no tmp file", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "a", "b", "state.json");
  await writeJsonAtomic(file, { x: 1, y: [1, 2] });
  assert.equal(readFileSync(file, "utf8"), '{\n  "x": 1,\n  "y": [\n    1,\n    2\n  ]\n}\n');
  assert.equal(modeOf(file), 0o600);
  assert.equal(modeOf(join(dir, "a")), 0o700);
  assert.equal(modeOf(join(dir, "a", "b")), 0o700);
  assert.deepEqual(readdirSync(join(dir, "a", "b")), ["state.json"]);
});

test("overwriting a world-readable file leaves a 0600 file with the new content", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "s.json");
  writeFileSync(file, "{}");
  chmodSync(file, 0o644);
  await writeJsonAtomic(file, { v: 2 });
  assert.equal(modeOf(file), 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { v: 2 });
});

test("explicit mode is applied regardless of umask", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "m.json");
  const old = process.umask(0o077);
  try {
    await writeFileAtomic(file, "x", { mode: 0o640 });
  } finally {
    process.umask(old);
  }
  assert.equal(modeOf(file), 0o640);
});

test("a failed write throws GW_ERR_STORE_WRITE_FAILED, keeps the target and removes its tmp file", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "keep.json");
  writeFileSync(file, '{"old":true}');
  // Renaming a file over a directory fails after the tmp file was written.
  const blocked = join(dir, "blocked.json");
  mkdirSync(blocked);
  await assert.rejects(writeJsonAtomic(blocked, { a: 1 }), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_STORE_WRITE_FAILED");
    assert.equal(err.retryable, true);
    return true;
  });
  assert.deepEqual(readdirSync(dir).sort(), ["blocked.json", "keep.json"]);
  assert.equal(readFileSync(file, "utf8"), '{"old":true}');
});

test("concurrent unqueued writes to one file each land atomically", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "c.json");
  const big = (n: number) => ({ n, pad: "x".repeat(200_000) });
  await Promise.all(Array.from({ length: 8 }, (_, i) => writeJsonAtomic(file, big(i))));
  const v = JSON.parse(readFileSync(file, "utf8")) as { n: number; pad: string };
  assert.ok(v.n >= 0 && v.n < 8);
  assert.equal(v.pad.length, 200_000);
  assert.deepEqual(readdirSync(dir), ["c.json"]);
});

test("readJsonFile: missing → fallback; valid → value", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "r.json");
  assert.deepEqual(await readJsonFile(file, { fallback: () => ({ empty: true }) }), { empty: true });
  await writeJsonAtomic(file, { a: 1 });
  assert.deepEqual(await readJsonFile(file, { fallback: () => ({}) }), { a: 1 });
});

test("readJsonFile: corrupt file throws GW_ERR_STORE_CORRUPT with the path and is left alone", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "bad.json");
  writeFileSync(file, '{"a": 1,');
  await assert.rejects(readJsonFile(file, { fallback: () => ({}) }), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_STORE_CORRUPT");
    assert.deepEqual(err.details, { path: file });
    return true;
  });
  assert.equal(readFileSync(file, "utf8"), '{"a": 1,');
});

test("readJsonFile: a shape that fails validate counts as corrupt", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "arr.json");
  writeFileSync(file, "[1,2]");
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  await assert.rejects(readJsonFile(file, { fallback: () => ({}), validate: isObj }), { code: "GW_ERR_STORE_CORRUPT" });
});

test("readJsonFile quarantine: corrupt file is kept as <file>.corrupt-<ts> and the fallback returned", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "q.json");
  writeFileSync(file, "not json");
  const seen: string[] = [];
  const v = await readJsonFile(file, {
    fallback: () => ({ fresh: true }),
    onCorrupt: "quarantine",
    onQuarantine: (info) => seen.push(info.movedTo),
  });
  assert.deepEqual(v, { fresh: true });
  assert.equal(existsSync(file), false);
  assert.equal(seen.length, 1);
  assert.match(seen[0] ?? "", /q\.json\.corrupt-\d+$/);
  assert.equal(readFileSync(seen[0] ?? "", "utf8"), "not json");
});

test("stale tmp files are ignored by reads and removed only when their writer is gone", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "s.json");
  await writeJsonAtomic(file, { good: true });
  const dead = `${file}.999999999.abcdef012345.tmp`;
  const mine = `${file}.${process.pid}.0123456789ab.tmp`;
  const parent = `${file}.${process.ppid}.0123456789ab.tmp`;
  const other = join(dir, "other.json.999999999.abcdef012345.tmp");
  for (const p of [dead, mine, parent, other]) writeFileSync(p, '{"torn":');
  assert.deepEqual(await readJsonFile(file, { fallback: () => ({}) }), { good: true });
  const removed = await removeStaleTempFiles(file);
  assert.deepEqual(removed, [dead]);
  assert.deepEqual(readdirSync(dir).sort(), [join("other.json.999999999.abcdef012345.tmp"), "s.json", `s.json.${process.pid}.0123456789ab.tmp`, `s.json.${process.ppid}.0123456789ab.tmp`].sort());
  assert.deepEqual(await removeStaleTempFiles(join(dir, "nodir", "x.json")), []);
});

test("WriteBehindQueue: a synchronous burst costs one write", async () => {
  let runs = 0;
  const q = new WriteBehindQueue(async () => {
    runs++;
  });
  for (let i = 0; i < 100; i++) q.schedule();
  await q.flush();
  assert.equal(runs, 1);
  assert.equal(q.pending, false);
  await q.flush();
  assert.equal(runs, 1, "flush with nothing dirty writes nothing");
});

test("WriteBehindQueue: writes issued while one is in flight collapse into one follow-up of the latest state", async () => {
  let state = 0;
  const written: number[] = [];
  const entered = deferred();
  const release = deferred();
  let first = true;
  const q = new WriteBehindQueue(async () => {
    const snapshot = state;
    if (first) {
      first = false;
      entered.resolve();
      await release.promise;
    }
    written.push(snapshot);
  });
  state = 1;
  q.schedule();
  await entered.promise;
  for (let i = 2; i <= 50; i++) {
    state = i;
    q.schedule();
  }
  assert.equal(q.runs, 1, "no second write starts while the first is in flight");
  release.resolve();
  await q.flush();
  assert.deepEqual(written, [1, 50]);
  assert.equal(q.runs, 2);
});

test("WriteBehindQueue: flush rejects when the write fails, the queue retries by itself, and a later flush succeeds", async () => {
  let calls = 0;
  const errors: unknown[] = [];
  const retried = deferred();
  const q = new WriteBehindQueue(
    async () => {
      calls++;
      if (calls === 1) throw new GatewayError("GW_ERR_STORE_WRITE_FAILED", "disk full");
      retried.resolve();
    },
    { retryDelayMs: 1, onError: (e) => errors.push(e) },
  );
  q.schedule();
  await assert.rejects(q.flush(), { code: "GW_ERR_STORE_WRITE_FAILED", message: "disk full" });
  assert.equal(errors.length, 1);
  await retried.promise;
  await q.flush();
  assert.equal(calls, 2);
  assert.equal(q.pending, false);
  q.stop();
});

test("WriteBehindQueue: non-GatewayError failures surface as GW_ERR_STORE_WRITE_FAILED", async () => {
  const q = new WriteBehindQueue(async () => {
    throw new Error("boom");
  }, { retryDelayMs: 60_000 });
  q.schedule();
  await assert.rejects(q.flush(), { code: "GW_ERR_STORE_WRITE_FAILED" });
  q.stop();
});

test("JsonFileWriter persists the latest snapshot and coalesces", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "w", "state.json");
  const state: { n: number } = { n: 0 };
  const w = new JsonFileWriter(file, () => state);
  for (let i = 1; i <= 20; i++) {
    state.n = i;
    w.schedule();
  }
  await w.flush();
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { n: 20 });
  assert.equal(w.writes, 1);
  state.n = 21;
  w.schedule();
  await w.close();
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { n: 21 });
  assert.equal(modeOf(file), 0o600);
});

test("WriteBehindQueue maxBusyShare: back-to-back writes are paced so their synchronous work takes at most that share", async () => {
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const run = async (maxBusyShare: number | undefined): Promise<{ gaps: number[]; syncs: number[]; writes: number }> => {
    const starts: number[] = [];
    const syncs: number[] = [];
    const q = new WriteBehindQueue(
      async () => {
        const t0 = performance.now();
        starts.push(t0);
        busy(4); // the snapshot + serialise of a large state
        syncs.push(performance.now() - t0);
      },
      maxBusyShare === undefined ? {} : { maxBusyShare },
    );
    // A stream of changes, each waiting for its state to be durable (persist before acknowledging).
    const until = performance.now() + 150;
    const acks: Promise<void>[] = [];
    while (performance.now() < until) {
      q.schedule();
      acks.push(q.flush());
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(acks);
    return { gaps: starts.slice(1).map((s, i) => s - starts[i]!), syncs, writes: q.runs };
  };
  const paced = await run(0.25);
  // Each write starts no earlier than its predecessor's synchronous time / share (within 0.5 ms).
  paced.gaps.forEach((g, i) => assert.ok(g >= paced.syncs[i]! / 0.25 - 0.5, `gap ${g.toFixed(1)} ms after a ${paced.syncs[i]!.toFixed(1)} ms write`));
  const unpaced = await run(undefined);
  assert.ok(unpaced.gaps.some((g, i) => g < unpaced.syncs[i]! / 0.25 - 1.5), "without pacing writes run back to back");
  assert.ok(paced.writes < unpaced.writes, `paced ${paced.writes} writes, unpaced ${unpaced.writes}`);
});
