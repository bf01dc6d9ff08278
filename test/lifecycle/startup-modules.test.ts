/**
 * The start-up budget (< 300 ms, < 80 MB with no channel configured; bench/startup.ts)
 * depends mostly on how many modules the main thread reads and compiles before it listens.
 * Time cannot be asserted robustly on a loaded CI machine, so this checks what is loaded:
 * `clawdbot gateway run` (the real entry through tsx) with no channel configured must not
 * load other subcommands' modules, the CLI's WebSocket client, the TLS generator, the agent
 * pool or any model SDK, and the number of our own modules stays under a bound.
 *
 * A loader hook, registered on the main thread only (workers have their own budget), logs
 * every module URL the main thread loads during the whole run (start, listen, stop).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { CLI_ENTRY, makeCliEnv } from "../helpers/cli.js";

/** Line prefix written by test/helpers/module-load-log.mjs. */
const PREFIX = "startup-module-load ";
const HOOK = fileURLToPath(new URL("../helpers/module-load-log.mjs", import.meta.url));

/** Modules that must never load on `gateway run` without channels (see docs/bench.md, "Start-up"). */
const FORBIDDEN: { re: RegExp; why: string }[] = [
  { re: /\/src\/cli\/(service|doctor)\//, why: "other subcommands load when they run" },
  { re: /\/src\/cli\/gateway-client\./, why: "the CLI's RPC client (ws) is for the client commands" },
  { re: /\/node_modules\/(ws|selfsigned|@peculiar|tsyringe)\//, why: "ws / the TLS generator load only when used" },
  // The tool registry and its policy are read by /tools/invoke; the pool, its worker entry and piscina start on the first run.
  { re: /\/src\/workers\/agent\/(?:pool\/|agent-pool-worker|agent-loop|session-turn|providers\/)|\/node_modules\/piscina\//, why: "the agent pool starts on the first run" },
  { re: /\/node_modules\/(openai|@anthropic-ai|grammy|@whiskeysockets|prom-client|lit)\//, why: "SDKs load only in their workers, when configured" },
  { re: /\/src\/main\/channels\/(?!channels-loader\.|channels-module-options\.|channel-config\.|channel-pairing-store\.)/, why: "the channels module loads only when a channel account is configured" },
];
/** Our own modules on the main thread (199 today: agents, hooks, nodes, cluster seams); a bound, not a target — a module that is not needed to listen loads on first use. */
const MAX_OWN_MODULES = 200;

test("gateway run without channels loads only its own graph on the main thread", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const child = spawn(process.execPath, ["--import", "tsx", "--import", HOOK, CLI_ENTRY, "gateway", "run", "--allow-unconfigured", "--port", "0"], {
    env: env.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => void child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line\n${stdout}\n${stderr.slice(-2000)}`)), 60_000);
    child.stdout.on("data", (d) => {
      stdout += String(d);
      if (/Gateway listening on ws:\/\//.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}\n${stdout}\n${stderr.slice(-2000)}`)));
  });
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));

  const urls = stderr
    .split("\n")
    .filter((l) => l.startsWith(PREFIX))
    .map((l) => l.slice(PREFIX.length));
  assert.ok(urls.some((u) => u.includes("/src/main/gateway.")), "the hook saw the gateway load");
  for (const { re, why } of FORBIDDEN) {
    const hits = urls.filter((u) => re.test(u));
    assert.deepEqual(hits, [], `${why}: ${hits.slice(0, 5).join(", ")}`);
  }
  const own = urls.filter((u) => u.startsWith("file:") && u.includes("/src/"));
  t.diagnostic(`main thread: ${urls.length} modules, ${own.length} of ours`);
  assert.ok(own.length <= MAX_OWN_MODULES, `${own.length} of our modules load at start (bound ${MAX_OWN_MODULES})`);
});
