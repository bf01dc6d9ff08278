/** The real CLI gateway process: config reload modes, port precedence, profiles. */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LOCAL_TOKEN, localGatewayEnv, makeCliEnv, runCli, startCliGateway } from "../helpers/cli.js";
import { connectClient, connectOk } from "../helpers/client.js";

const TOKEN = LOCAL_TOKEN;
const envWithConfig = localGatewayEnv;

test("hot reload: a new gateway.auth.token applies without restart; invalid files keep the last good config", async (t) => {
  const env = await envWithConfig(t, { logging: { file: "" } });
  const logFile = join(env.home, "gateway.log");
  await env.writeConfig({ gateway: { mode: "local", auth: { token: TOKEN }, reload: { debounceMs: 50 } }, logging: { file: logFile } });
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const watcher = await connectOk(gw.url, { token: TOKEN });
  const NEW = "rotated-token-abcdef0123456789";
  // Atomic-rename replacement, as editors and config writers do.
  await writeFile(`${env.configPath}.tmp`, JSON.stringify({ gateway: { mode: "local", auth: { token: NEW }, reload: { debounceMs: 50 } }, logging: { file: logFile } }));
  await rename(`${env.configPath}.tmp`, env.configPath);
  await gw.waitLine(/config hot-applied/);
  const old = await connectClient(gw.url, { token: TOKEN });
  assert.match(old.res.error!.message, /^unauthorized: gateway token mismatch/);
  const fresh = await connectOk(gw.url, { token: NEW });
  fresh.client.close();
  assert.equal(watcher.client.frames.filter((f) => f.event === "shutdown").length, 0, "no restart");

  await writeFile(env.configPath, "{ gateway: { mode: 'local', auth: { token: ");
  await gw.waitLine(/config reload rejected/);
  const still = await connectOk(gw.url, { token: NEW });
  still.client.close();
  watcher.client.close();

  const log = await readFile(logFile, "utf8");
  assert.ok(log.length > 0, "log file written");
  assert.ok(!log.includes(TOKEN) && !log.includes(NEW), "tokens never reach the log file");
});

test("hybrid reload restarts in-process for restart-class changes; mode off ignores changes", async (t) => {
  const env = await envWithConfig(t, {});
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const { client } = await connectOk(gw.url, { token: TOKEN });
  await env.writeConfig({ gateway: { mode: "local", auth: { token: TOKEN }, reload: { debounceMs: 50 }, preAuth: { maxPerIp: 10 } } });
  const ev = await client.event("shutdown", 10_000);
  assert.equal(ev.payload.restartExpectedMs, 1500);
  await gw.waitCount(/Gateway listening/, 2, 10_000);
  const pid = gw.child.pid;
  const again = await connectOk(gw.url, { token: TOKEN });
  assert.equal(gw.child.pid, pid);
  assert.equal(gw.child.exitCode, null);

  await env.writeConfig({ gateway: { mode: "local", auth: { token: TOKEN }, reload: { mode: "off", debounceMs: 50 }, preAuth: { maxPerIp: 12 } } });
  await gw.waitLine(/reload is off/);
  assert.equal(again.client.frames.filter((f) => f.event === "shutdown").length, 0);
  again.client.close();
});

test("port precedence: --port beats CLAWDBOT_GATEWAY_PORT beats gateway.port", async (t) => {
  const free = async (): Promise<number> =>
    new Promise((r) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
  const [a, b, c] = [await free(), await free(), await free()];
  const env = await envWithConfig(t, {});
  await env.writeConfig({ gateway: { mode: "local", port: c, auth: { token: TOKEN } } });
  const byConfig = await startCliGateway([], env.env, t);
  assert.equal(byConfig.port, c);
  byConfig.kill();
  await byConfig.exited;
  const byEnv = await startCliGateway([], { ...env.env, CLAWDBOT_GATEWAY_PORT: String(b) }, t);
  assert.equal(byEnv.port, b);
  byEnv.kill();
  await byEnv.exited;
  const byFlag = await startCliGateway(["--port", String(a)], { ...env.env, CLAWDBOT_GATEWAY_PORT: String(b) }, t);
  assert.equal(byFlag.port, a);
});

test("--profile and --dev isolate state dir and config: two gateways side by side", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const base: NodeJS.ProcessEnv = { ...env.env };
  delete base.CLAWDBOT_STATE_DIR;
  delete base.CLAWDBOT_CONFIG_PATH;
  const a = await startCliGateway(["--port", "0", "--allow-unconfigured"], base, t, ["--profile", "alpha"]);
  const b = await startCliGateway(["--port", "0", "--allow-unconfigured"], base, t, ["--profile", "beta"]);
  // Each generated its own token in its own state dir.
  const tokenA = JSON.parse(await readFile(join(env.home, ".clawdbot-alpha", "gateway", "auth-token.json"), "utf8")).token as string;
  const tokenB = JSON.parse(await readFile(join(env.home, ".clawdbot-beta", "gateway", "auth-token.json"), "utf8")).token as string;
  assert.notEqual(tokenA, tokenB);
  const ca = await connectOk(a.url, { token: tokenA });
  const cb = await connectOk(b.url, { token: tokenB });
  assert.equal(ca.hello.snapshot.stateDir, join(env.home, ".clawdbot-alpha"));
  assert.equal(cb.hello.snapshot.configPath, join(env.home, ".clawdbot-beta", "clawdbot.json"));
  ca.client.close();
  cb.client.close();
  const cross = await connectClient(a.url, { token: tokenB });
  assert.match(cross.res.error!.message, /^unauthorized/);
  // The CLI under the same profile finds its gateway's token by itself (for its local port;
  // an explicit --url would get no credentials from the local config).
  const call = await runCli(["--profile", "alpha", "gateway", "call", "health"], { ...base, CLAWDBOT_GATEWAY_PORT: String(a.port) });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).ok, true);
  const dev = await runCli(["--dev", "--profile", "x", "health"], base);
  assert.notEqual(dev.code, 0);
});
