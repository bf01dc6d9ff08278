/** The single-instance lock: stale and foreign locks, and the per-user lock directory. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { join } from "node:path";

import { looksLikeGatewayCommand, parseLockRecord, processStartTime } from "../../src/main/lifecycle/instance-lock.js";
import { LOCAL_TOKEN, makeCliEnv, runCli, startCliGateway, type CliEnv } from "../helpers/cli.js";

const uid = typeof process.getuid === "function" ? process.getuid() : 0;

/** A CLI env with its own TMPDIR (where the lock directory lives). */
async function lockEnv(t: { after: (fn: () => Promise<void>) => void }): Promise<CliEnv & { lockDir: string; lockFile: string }> {
  const base = await makeCliEnv();
  const tmp = join(base.home, "tmp");
  await fs.mkdir(tmp);
  const env = await makeCliEnv({ TMPDIR: tmp });
  t.after(() => base.cleanup());
  t.after(() => env.cleanup());
  await env.writeConfig({ gateway: { mode: "local", auth: { token: LOCAL_TOKEN } } });
  const lockDir = join(tmp, `clawdbot-${uid}`);
  const lockFile = join(lockDir, `gateway.${createHash("sha1").update(env.configPath).digest("hex").slice(0, 8)}.lock`);
  return Object.assign(env, { lockDir, lockFile });
}

/** A live process whose command line is `argv` (node -e keeps extra args in its cmdline). */
function liveProcess(t: { after: (fn: () => void) => void }, argv: string[]): number {
  const p = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)", ...argv], { stdio: "ignore" });
  t.after(() => void p.kill("SIGKILL"));
  return p.pid as number;
}

test("lock records: bare pid (older releases) and JSON; gateway command lines", () => {
  assert.deepEqual(parseLockRecord("123\n"), { pid: 123 });
  assert.deepEqual(parseLockRecord('{"pid":5,"startTime":"99"}'), { pid: 5, startTime: "99" });
  assert.equal(parseLockRecord("garbage"), undefined);
  assert.ok(looksLikeGatewayCommand(["node", "/opt/clawgate/dist/src/cli/main.js", "gateway", "--port", "1"]));
  assert.ok(looksLikeGatewayCommand(["node", "/usr/local/bin/clawdbot", "gateway"]));
  assert.ok(!looksLikeGatewayCommand(["sleep", "100"]));
  assert.ok(!looksLikeGatewayCommand(["node", "/usr/local/bin/clawdbot", "status"]));
});

test("a lock naming a live process that is not a gateway is stale: the gateway starts and takes it over", async (t) => {
  const env = await lockEnv(t);
  await fs.mkdir(env.lockDir, { mode: 0o700 });
  const stranger = liveProcess(t, ["some-other-program"]);
  await fs.writeFile(env.lockFile, `${stranger}\n`);
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const rec = JSON.parse(await fs.readFile(env.lockFile, "utf8")) as { pid: number; startTime?: string };
  assert.equal(rec.pid, gw.child.pid);
  if (process.platform === "linux") assert.equal(rec.startTime, await processStartTime(gw.child.pid as number));
  gw.kill("SIGTERM");
  assert.equal((await gw.exited).code, 0);
  await assert.rejects(fs.stat(env.lockFile), { code: "ENOENT" });
});

test("a reused pid (start time differs) is stale; a live gateway with the recorded start time holds the lock (exit 78)", async (t) => {
  const env = await lockEnv(t);
  await fs.mkdir(env.lockDir, { mode: 0o700 });
  const lookalike = liveProcess(t, ["/opt/clawgate/dist/src/cli/main.js", "gateway"]);
  const started = await processStartTime(lookalike);
  if (started !== undefined) {
    await fs.writeFile(env.lockFile, JSON.stringify({ pid: lookalike, startTime: `${started}0` }));
    const gw = await startCliGateway(["--port", "0"], env.env, t);
    gw.kill("SIGTERM");
    await gw.exited;
  }
  await fs.writeFile(env.lockFile, JSON.stringify({ pid: lookalike, startTime: started }));
  const held = await runCli(["gateway", "--port", "0"], env.env);
  assert.equal(held.code, 78);
  assert.match(held.stderr, new RegExp(`another gateway \\(pid ${lookalike}\\) is already running`));
});

test("the lock directory must be ours and private: group/world-writable, symlinked or foreign dirs are refused (78)", async (t) => {
  const env = await lockEnv(t);
  await fs.mkdir(env.lockDir, { mode: 0o700 });
  await fs.chmod(env.lockDir, 0o777);
  const open = await runCli(["gateway", "--port", "0"], env.env);
  assert.equal(open.code, 78, open.stderr);
  assert.match(open.stderr, /refusing to use .*clawdbot-\d+: it is writable by group or others \(mode 0777\)/);

  await fs.rm(env.lockDir, { recursive: true });
  const elsewhere = join(env.home, "elsewhere");
  await fs.mkdir(elsewhere, { mode: 0o700 });
  await fs.symlink(elsewhere, env.lockDir);
  const link = await runCli(["gateway", "--port", "0"], env.env);
  assert.equal(link.code, 78);
  assert.match(link.stderr, /it is a symbolic link/);

  if (uid === 0) {
    await fs.rm(env.lockDir);
    await fs.mkdir(env.lockDir, { mode: 0o700 });
    await fs.chown(env.lockDir, 65534, 65534);
    const foreign = await runCli(["gateway", "--port", "0"], env.env);
    assert.equal(foreign.code, 78);
    assert.match(foreign.stderr, /it is owned by uid 65534, not by you/);
  }
});
