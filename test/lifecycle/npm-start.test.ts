/**
 * The README's `npm start` path end to end: tsc build, the compiled CLI serving the
 * gateway on its defaults (bar the port), a generated token, and
 * `clawdbot gateway call health` printing the health JSON.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeCliEnv } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("npm start builds and serves; the compiled CLI's gateway call health prints the health JSON", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const child = spawn(npm, ["start", "--silent", "--", "--port", "0"], { cwd: root, env: { ...env.env, npm_config_update_notifier: "false" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  t.after(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  });
  let out = "";
  child.stderr!.on("data", (d) => (out += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 120_000);
    child.stdout!.on("data", (d) => {
      out += String(d);
      const m = /Gateway listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  assert.match(out, /generated a token and saved it to .*auth-token\.json/);
  const token = JSON.parse(await readFile(join(env.stateDir, "gateway", "auth-token.json"), "utf8")).token as string;
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.ok(!out.includes(token), "the token itself is never printed");

  const call = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // The local port, not --url: an explicit URL gets no credentials from the local state.
    const port = new URL(url).port;
    const c = spawn(process.execPath, [join(root, "dist", "src", "cli", "entry.js"), "gateway", "call", "health"], { cwd: root, env: { ...env.env, CLAWDBOT_GATEWAY_PORT: port } });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += String(d)));
    c.stderr.on("data", (d) => (stderr += String(d)));
    c.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(call.code, 0, call.stderr);
  const health = JSON.parse(call.stdout);
  assert.equal(health.ok, true);
  assert.equal(typeof health.ts, "number");

  // SIGTERM to the process group (npm and the gateway), as a terminal's Ctrl-C would.
  process.kill(-child.pid!, "SIGTERM");
  // "close", not "exit": npm may exit before the gateway it spawned has flushed its
  // last log lines; the pipes close only when every process holding them is gone.
  await new Promise((r) => child.once("close", r));
  assert.match(out, /"msg":"gateway stopping"/);
});
