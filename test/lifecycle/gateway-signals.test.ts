/** The real CLI gateway process: signals, exit codes, port conflicts, --force. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { LOCAL_TOKEN, localGatewayEnv, makeCliEnv, runCli, startCliGateway } from "../helpers/cli.js";
import { connectOk } from "../helpers/client.js";

const TOKEN = LOCAL_TOKEN;
const envWithConfig = localGatewayEnv;

test("SIGTERM: clients get shutdown then close 1012, the process exits 0", async (t) => {
  const env = await envWithConfig(t, {});
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const { client } = await connectOk(gw.url, { token: TOKEN });
  gw.kill("SIGTERM");
  const ev = await client.event("shutdown");
  assert.deepEqual(ev.payload, { reason: "gateway stopping", restartExpectedMs: null });
  assert.equal(typeof ev.seq, "number");
  assert.deepEqual(await client.closed, { code: 1012, reason: "service restart" });
  assert.deepEqual(await gw.exited, { code: 0, signal: null });
});

test("SIGUSR1 restarts in-process when commands.restart=true (same PID, clients reconnect); ignored otherwise", async (t) => {
  const env = await envWithConfig(t, { commands: { restart: true } });
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const { client } = await connectOk(gw.url, { token: TOKEN });
  gw.kill("SIGUSR1");
  const ev = await client.event("shutdown");
  assert.deepEqual(ev.payload, { reason: "gateway restarting", restartExpectedMs: 1500 });
  assert.equal((await client.closed).code, 1012);
  // Same process listens again on the same port.
  await gw.waitCount(new RegExp(`Gateway listening on ws://127\\.0\\.0\\.1:${gw.port}`), 2, 10_000);
  const again = await connectOk(gw.url, { token: TOKEN });
  again.client.close();
  assert.equal(gw.child.exitCode, null, "same PID still running");

  const env2 = await envWithConfig(t, {});
  const gw2 = await startCliGateway(["--port", "0"], env2.env, t);
  const c2 = await connectOk(gw2.url, { token: TOKEN });
  gw2.kill("SIGUSR1");
  await gw2.waitLine(/SIGUSR1 ignored/);
  const h = await c2.client.request("health");
  assert.equal(h.ok, true, "gateway keeps serving");
  c2.client.close();
});

test("invalid config exits 78 naming the problem; an unconfigured gateway refuses to start with 78", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  await env.writeConfig({ gateway: { mode: "local", port: "abc" } });
  const bad = await runCli(["gateway"], env.env);
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /gateway\.port/);
  await env.writeConfig("{ gateway: { mode: 'local', ");
  const unparsable = await runCli(["gateway"], env.env);
  assert.equal(unparsable.code, 78);
  await env.writeConfig({});
  const unconfigured = await runCli(["gateway"], env.env);
  assert.equal(unconfigured.code, 78);
  assert.match(unconfigured.stderr, /gateway\.mode=local|--allow-unconfigured/);
  await env.writeConfig({ gateway: { mode: "local", auth: { mode: "token", token: "changeme" } } });
  const placeholder = await runCli(["gateway"], env.env);
  assert.equal(placeholder.code, 78);
  assert.match(placeholder.stderr, /placeholder/);
  await env.writeConfig({ gateway: { mode: "local", bind: "lan", auth: { mode: "none" } } });
  const open = await runCli(["gateway"], env.env);
  assert.equal(open.code, 78);
  assert.match(open.stderr, /Refusing to bind gateway to .* without auth/);
});

test("a port held by a live listener exits 78 (no supervisor restart loop) and names the holder; --force terminates it and starts", async (t) => {
  const env = await envWithConfig(t, {});
  // A listener in another process, as a stray gateway would be.
  const holder = spawn(process.execPath, ["-e", "require('net').createServer().listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => void holder.kill("SIGKILL"));
  const port = Number(await new Promise<string>((r) => holder.stdout!.once("data", (d) => r(String(d).trim()))));
  const busy = await runCli(["gateway", "--port", String(port)], env.env);
  assert.equal(busy.code, 78);
  assert.match(busy.stderr, new RegExp(`already listening on ws://127\\.0\\.0\\.1:${port}`));
  assert.match(busy.stderr, new RegExp(`held by pid ${holder.pid}`));

  const holderExit = new Promise((r) => holder.once("exit", r));
  const gw = await startCliGateway(["--port", String(port), "--force"], env.env, t);
  assert.ok(gw.stdout.some((l) => l.includes(`sent SIGTERM to pid ${holder.pid}`)));
  await holderExit;
  const c = await connectOk(gw.url, { token: TOKEN });
  c.client.close();
});

test("single-instance lock: a second gateway on the same config exits 78 naming the running one", async (t) => {
  const env = await envWithConfig(t, {});
  const first = await startCliGateway(["--port", "0"], env.env, t);
  const second = await runCli(["gateway", "--port", "0"], env.env);
  assert.equal(second.code, 78);
  assert.match(second.stderr, new RegExp(`another gateway \\(pid ${first.child.pid}\\) is already running with config`));
  first.kill("SIGTERM");
  assert.equal((await first.exited).code, 0);
  // The lock is released on exit: a new gateway starts.
  const third = await startCliGateway(["--port", "0"], env.env, t);
  third.kill("SIGTERM");
  await third.exited;
});
