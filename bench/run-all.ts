/**
 * `npm run bench`: runs every bench script (bench/*.ts except this one) one after the
 * other, each as its own process (`node --import tsx bench/<name>.ts <args>`), with the
 * arguments given here passed through (`npm run bench -- --quick`). Each script prints its
 * own table and writes its JSON under bench/results/. Exits non-zero if any script fails
 * or exceeds its time budget.
 *
 *   --only a,b         run just these scripts (names without .ts)
 *   --script-timeout S per-script budget in seconds (default 1800; 600 with --quick)
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { intArg, listArg, parseArgs } from "./lib/args.js";
import { machineHeader } from "./lib/machine.js";
import { fmt, formatTable } from "./lib/stats.js";

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const passArgs = process.argv.slice(2);
const args = parseArgs(passArgs);
const quick = args.switches.has("quick");
const only = listArg(args, "only", []);
const timeoutMs = intArg(args, "script-timeout", quick ? 600 : 1800) * 1000;
// run-all's own flags are not passed on.
const childArgs = passArgs.filter((a, i) => {
  const prev = passArgs[i - 1];
  return !["--only", "--script-timeout"].includes(a) && !["--only", "--script-timeout"].includes(prev ?? "") && !a.startsWith("--only=") && !a.startsWith("--script-timeout=");
});

interface Outcome {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  timedOut: boolean;
}

let current: ReturnType<typeof spawn> | null = null;
const stopChild = (): void => {
  if (current && current.exitCode === null) current.kill("SIGTERM");
};
process.on("SIGINT", () => {
  stopChild();
  process.exit(130);
});
process.on("SIGTERM", () => {
  stopChild();
  process.exit(143);
});
process.on("exit", stopChild);

function runScript(name: string): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join("bench", `${name}.ts`), ...childArgs], {
      cwd: join(here, ".."),
      stdio: "inherit",
    });
    current = child;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\nrun-all: ${name} exceeded ${timeoutMs / 1000} s; terminating it\n`);
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    }, timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      current = null;
      resolve({ name, code, signal, seconds: (performance.now() - t0) / 1000, timedOut });
    });
    child.once("error", (err) => {
      process.stderr.write(`run-all: could not start ${name}: ${err.message}\n`);
    });
  });
}

async function main(): Promise<number> {
  const all = (await readdir(here))
    .filter((f) => f.endsWith(".ts") && f !== self && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
  const unknown = only.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`run-all: no such bench script: ${unknown.join(", ")} (have: ${all.join(", ")})\n`);
    return 2;
  }
  const scripts = only.length > 0 ? all.filter((n) => only.includes(n)) : all;
  process.stdout.write(`run-all: ${scripts.length} bench script(s): ${scripts.join(", ")}${childArgs.length ? ` · args: ${childArgs.join(" ")}` : ""}\n`);
  process.stdout.write(`${machineHeader()}\n`);
  const outcomes: Outcome[] = [];
  for (const name of scripts) {
    process.stdout.write(`\n${"=".repeat(20)} bench/${name}.ts ${"=".repeat(20)}\n`);
    outcomes.push(await runScript(name));
  }
  const failed = outcomes.filter((o) => o.code !== 0);
  process.stdout.write("\n");
  process.stdout.write(
    `${formatTable(
      ["script", "result", "seconds"],
      outcomes.map((o) => [
        o.name,
        o.code === 0 ? "ok" : o.timedOut ? "TIMEOUT" : o.signal ? `killed (${o.signal})` : `FAILED (exit ${o.code})`,
        fmt(o.seconds, 1),
      ]),
    )}\n`,
  );
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`run-all failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
