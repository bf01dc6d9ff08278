/**
 * The canvas host under a symlink race: a directory inside the root is flipped between a
 * real directory and a symlink to a directory outside the root (by another thread, as fast
 * as it can) while files are requested through it in a loop. No timing may serve the
 * outside file, and the watcher's failures while directories come and go must not flood
 * the log.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { Worker } from "node:worker_threads";
import type { CanvasLogger } from "../../src/workers/canvas/canvas-logger.js";
import { startCanvasServer } from "../../src/workers/canvas/canvas-server.js";
import { DEFAULT_VERIFY_STRATEGY, descriptorIsInside, openInsideRoot } from "../../src/workers/canvas/path-safety.js";
import { tempDir } from "../helpers/temp-dir.js";

const INSIDE = "inside-content";
const OUTSIDE = "OUTSIDE-SECRET";

/** Flips `dir` between the real directory and a symlink to `outside` until `stop[0]` is set. */
const FLIPPER = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const stop = new Int32Array(workerData.stop);
const { dir, hold, outside, pauseMs } = workerData;
const nap = new Int32Array(new SharedArrayBuffer(4));
let flips = 0;
while (Atomics.load(stop, 0) === 0) {
  try {
    fs.renameSync(dir, hold);
    fs.symlinkSync(outside, dir);
    fs.unlinkSync(dir);
    fs.renameSync(hold, dir);
    flips++;
    if (pauseMs > 0) Atomics.wait(nap, 0, 0, pauseMs);
  } catch {}
}
parentPort.postMessage(flips);
`;

function get(agent: http.Agent, port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

interface HammerResult {
  sent: number;
  served: number;
  leaks: number;
  flips: number;
  watchFailures: number;
  ms: number;
}

/**
 * Serves a root whose `flip/` directory another thread keeps flipping between a real
 * directory and a symlink to `outside/`, and requests files through it from 16 keep-alive
 * connections until `maxRequests` or `maxMs`.
 */
async function hammer(t: TestContext, opts: { liveReload: boolean; pauseMs: number; maxMs: number; maxRequests: number }): Promise<HammerResult> {
  const base = tempDir(t);
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  fs.mkdirSync(path.join(root, "flip"), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, "index.html"), "<p>top</p>");
  fs.writeFileSync(path.join(root, "flip", "data.txt"), INSIDE);
  fs.writeFileSync(path.join(root, "flip", "index.html"), INSIDE);
  fs.writeFileSync(path.join(outside, "data.txt"), OUTSIDE);
  fs.writeFileSync(path.join(outside, "index.html"), OUTSIDE);

  let watchFailures = 0;
  const noop = (): void => {};
  const logger: CanvasLogger = {
    debug: noop,
    info: noop,
    error: noop,
    warn: (_fields, msg) => {
      if (/watch failed/.test(msg)) watchFailures++;
    },
  };
  const server = await startCanvasServer({ root, host: "127.0.0.1", port: 0, liveReload: opts.liveReload, logger });
  t.after(() => server.close());

  const stop = new SharedArrayBuffer(4);
  const flipper = new Worker(FLIPPER, {
    eval: true,
    workerData: { stop, dir: path.join(root, "flip"), hold: path.join(root, "flip-hold"), outside, pauseMs: opts.pauseMs },
  });
  const flips = new Promise<number>((resolve, reject) => {
    flipper.once("message", resolve);
    flipper.once("error", reject);
  });
  t.after(() => flipper.terminate());

  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const targets = ["/__clawdbot__/canvas/flip/data.txt", "/__clawdbot__/canvas/flip/", "/__clawdbot__/canvas/flip"];
  const startedAt = Date.now();
  const result: HammerResult = { sent: 0, served: 0, leaks: 0, flips: 0, watchFailures: 0, ms: 0 };
  const loop = async (): Promise<void> => {
    while (result.sent < opts.maxRequests && Date.now() - startedAt < opts.maxMs) {
      const target = targets[result.sent++ % targets.length] ?? "";
      const res = await get(agent, server.port, target);
      if (res.body.includes(OUTSIDE)) result.leaks++;
      else if (res.status === 200) {
        assert.ok(res.body.startsWith(INSIDE), `unexpected body for ${target}: ${res.body.slice(0, 80)}`);
        result.served++;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, loop));
  Atomics.store(new Int32Array(stop), 0, 1);
  result.flips = await flips;
  result.ms = Date.now() - startedAt;
  result.watchFailures = watchFailures;
  return result;
}

// Race-free only where the kernel names an open descriptor's path (see path-safety.ts).
const POSIX_ONLY = { skip: DEFAULT_VERIFY_STRATEGY !== "proc" && "no race-free descriptor path on this platform" };

test("flipping a directory between a real dir and a symlink to outside never serves the outside file", POSIX_ONLY, async (t) => {
  // Flat out, no watcher: the widest race window between any check and the open.
  const r = await hammer(t, { liveReload: false, pauseMs: 0, maxMs: 3000, maxRequests: 40_000 });
  assert.ok(r.flips > 100, `the flipper made only ${r.flips} flips`);
  assert.ok(r.served > 0, "the inside file was never served: the race was not exercised");
  assert.equal(r.leaks, 0, `${r.leaks} of ${r.sent} requests served the outside file (${r.flips} flips in ${r.ms} ms)`);
});

test("a directory that keeps flipping under the watcher logs a bounded number of 'watch failed' lines", { skip: process.platform === "win32" && "needs POSIX symlinks" }, async (t) => {
  // Paced (~1 flip per ms): a flat-out flipper floods inotify faster than any watcher reads.
  const r = await hammer(t, { liveReload: true, pauseMs: 1, maxMs: 2000, maxRequests: 20_000 });
  assert.ok(r.flips > 100, `the flipper made only ${r.flips} flips`);
  assert.equal(r.leaks, 0, `${r.leaks} of ${r.sent} requests served the outside file`);
  assert.ok(r.watchFailures <= 6, `${r.watchFailures} "watch failed" log lines for ${r.flips} flips in ${r.ms} ms`);
});

test(
  "openInsideRoot (proc) never returns a descriptor outside the root while the path flips",
  { skip: process.platform !== "linux" && "needs /proc" },
  async (t) => {
    const base = tempDir(t);
    const root = path.join(base, "root");
    const outside = path.join(base, "outside");
    fs.mkdirSync(path.join(root, "flip"), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(root, "flip", "data.txt"), INSIDE);
    fs.writeFileSync(path.join(outside, "data.txt"), OUTSIDE);
    const rootReal = fs.realpathSync(root);
    const checked = path.join(rootReal, "flip", "data.txt"); // what resolveInsideRoot returned
    const stop = new SharedArrayBuffer(4);
    const flipper = new Worker(FLIPPER, {
      eval: true,
      workerData: { stop, dir: path.join(root, "flip"), hold: path.join(root, "flip-hold"), outside, pauseMs: 0 },
    });
    const flips = new Promise<number>((resolve, reject) => {
      flipper.once("message", resolve);
      flipper.once("error", reject);
    });
    t.after(() => flipper.terminate());
    let opened = 0;
    let leaks = 0;
    const startedAt = Date.now();
    const loop = async (): Promise<void> => {
      while (Date.now() - startedAt < 1000) {
        const f = await openInsideRoot(rootReal, checked, "proc");
        if (!f) continue;
        opened++;
        const body = (await f.handle.readFile()).toString();
        await f.handle.close();
        if (body !== INSIDE) leaks++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    Atomics.store(new Int32Array(stop), 0, 1);
    const n = await flips;
    assert.ok(opened > 0 && n > 100, `opened ${opened}, flips ${n}`);
    assert.equal(leaks, 0, `${leaks} of ${opened} opens returned the outside file`);
  },
);

test("descriptor verification refuses a descriptor whose file is not the one inside the root (both strategies)", async (t) => {
  const base = tempDir(t);
  const root = path.join(base, "root");
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, "a.txt"), INSIDE);
  fs.writeFileSync(path.join(base, "outside.txt"), OUTSIDE);
  const rootReal = fs.realpathSync(root);
  const inside = path.join(rootReal, "a.txt");
  const outsideHandle = await fs.promises.open(path.join(base, "outside.txt"));
  const insideHandle = await fs.promises.open(inside);
  t.after(() => Promise.all([outsideHandle.close(), insideHandle.close()]));
  const strategies = process.platform === "linux" ? (["proc", "reresolve"] as const) : (["reresolve"] as const);
  for (const s of strategies) {
    // What a swap produces: the path checked says "inside", the descriptor holds another file.
    assert.equal(await descriptorIsInside(outsideHandle, rootReal, inside, s), false, s);
    assert.equal(await descriptorIsInside(insideHandle, rootReal, inside, s), true, s);
  }
});
