#!/usr/bin/env node
// Runs every test/**/*.test.ts through node:test with tsx as the loader.
// Node 20's --test does not expand globs and silently runs zero .ts files when
// handed a directory, so the files are listed here explicitly.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawn, spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === "helpers" || name === "fixtures") continue;
      out.push(...collect(p));
    } else if (name.endsWith(".test.ts")) {
      out.push(relative(root, p));
    }
  }
  return out;
}

let files = collect(join(root, "test"));
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
// A full run type-checks src, tests, benches and scripts first (strict); filtered runs skip it.
if (only.length === 0) {
  const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.check.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) {
    console.error("run-tests: type check failed");
    process.exit(1);
  }
}
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
// Tests that compare latency percentiles between phases of one run (idle vs fault), or race
// lease expiry against process kills, run after the others, one at a time: another test
// file's burst of CPU on a 2-core machine would be measured as the feature's cost or stretch
// a lease past its bound.
const SOLO = [/channel-fault-isolation\.test\.ts$/, /cluster-channel-failover\.test\.ts$/];
const solo = files.filter((f) => SOLO.some((re) => re.test(f)));
const shared = files.filter((f) => !solo.includes(f));

function runNodeTest(list, conc) {
  if (list.length === 0) return Promise.resolve(0);
  const args = ["--import", "tsx", "--test", `--test-concurrency=${conc}`, "--test-timeout=300000", ...list];
  const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1))));
}

const first = await runNodeTest(shared, concurrency);
const second = await runNodeTest(solo, "1");
process.exit(first !== 0 ? first : second);
