/**
 * `clawdbot gateway status`: supervisor state (stubbed systemctl) reported separately
 * from RPC reachability against a real gateway started by the CLI on port 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { makeCliEnv, runCli, startCliGateway } from "../helpers/cli.js";
import { makeToolStub } from "../helpers/tool-stub.js";
import type { GatewayStatusReport } from "../../src/cli/service/service-status.js";
import { formatStatusReport } from "../../src/cli/service/status-format.js";

const TOKEN = "9c2f5e8a1b4d7c0e3f6a9b2c5d8e1f4a";

interface StatusJson {
  service: { label: string; installed: boolean; loaded: boolean; runtime: { status: string; pid?: number; state?: string } };
  config: { cli: { path: string; exists: boolean; valid: boolean } };
  gateway: { bindMode: string; bindHost: string; port: number; portSource: string; probeUrl: string };
  port: { port: number; status: string; listeners: string[]; hints: string[] };
  lastError?: string;
  rpc?: { ok: boolean; error?: string; url: string };
  legacyServices: unknown[];
  extraServices: { label: string; scope: string; clawdbot: boolean }[];
}

function parseStatus(stdout: string): StatusJson {
  try {
    return JSON.parse(stdout) as StatusJson;
  } catch {
    throw new Error(`not JSON:\n${stdout}`);
  }
}

test("gateway status: rpc ok against a running gateway, --no-probe skips it, --deep lists other units, a dead port shows the last error", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const systemctl = await makeToolStub(env.home, "systemctl");
  await systemctl.setStatus("ActiveState=inactive\nSubState=dead\nMainPID=0\nExecMainStatus=0\nUnitFileState=disabled\nLoadState=not-found\n");
  await env.writeConfig({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } }, logging: { file: join(env.home, "gateway-file.log") } });
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  // The status command derives the probe target itself (env port), like an operator's shell would.
  const e = { ...env.env, CLAWDBOT_SYSTEMCTL: systemctl.bin, CLAWDBOT_GATEWAY_PORT: String(gw.port) };

  const up = await runCli(["gateway", "status", "--json"], e);
  assert.equal(up.code, 0, up.stderr);
  const s1 = parseStatus(up.stdout);
  assert.deepEqual(s1.rpc, { ok: true, url: `ws://127.0.0.1:${gw.port}` });
  assert.equal(s1.gateway.probeUrl, `ws://127.0.0.1:${gw.port}`);
  assert.equal(s1.gateway.port, gw.port);
  assert.equal(s1.gateway.portSource, "env/config");
  assert.equal(s1.gateway.bindMode, "loopback");
  assert.equal(s1.port.status, "listening");
  assert.deepEqual(s1.config.cli, { path: env.configPath, exists: true, valid: true });
  assert.equal(s1.service.label, "clawdbot-gateway.service");
  assert.equal(s1.service.installed, false);
  assert.equal(s1.service.runtime.status, "stopped");
  assert.deepEqual(s1.legacyServices, []);
  assert.deepEqual(s1.extraServices, []);

  // Another profile's unit (ours, by marker) and a foreign one in the user unit dir.
  const unitDir = join(env.home, ".config", "systemd", "user");
  await mkdir(unitDir, { recursive: true });
  await writeFile(join(unitDir, "clawdbot-gateway-rescue.service"), "[Service]\nExecStart=/bin/true\nEnvironment=CLAWDBOT_SERVICE_MARKER=clawdbot\n");
  await writeFile(join(unitDir, "clawdbot-gateway-legacy.service"), "[Service]\nExecStart=/bin/true\n");
  const deep = await runCli(["gateway", "status", "--json", "--no-probe", "--deep"], e);
  assert.equal(deep.code, 0, deep.stderr);
  const s2 = parseStatus(deep.stdout);
  assert.equal(s2.rpc, undefined, "--no-probe skips the RPC");
  assert.equal(s2.port.status, "listening");
  const extras = s2.extraServices.filter((x) => x.scope === "user").map((x) => [x.label, x.clawdbot]);
  assert.deepEqual(extras, [
    ["clawdbot-gateway-legacy.service", false],
    ["clawdbot-gateway-rescue.service", true],
  ]);

  gw.kill("SIGTERM");
  assert.equal((await gw.exited).code, 0);

  // The supervisor claims the service runs, but nothing listens: show the last error line.
  await systemctl.setStatus("ActiveState=active\nSubState=running\nMainPID=4242\nExecMainStatus=0\nUnitFileState=enabled\nLoadState=loaded\n");
  await mkdir(join(env.stateDir, "logs"), { recursive: true });
  await writeFile(
    join(env.stateDir, "logs", "gateway.err.log"),
    "starting\nGateway failed to start: ERROR listen EADDRINUSE 127.0.0.1:1\nretrying in 5s\n",
  );
  const down = await runCli(["gateway", "status", "--json"], e);
  assert.equal(down.code, 0, "exit 0: gathering worked even though the gateway is down");
  const s3 = parseStatus(down.stdout);
  assert.equal(s3.rpc?.ok, false);
  assert.match(s3.rpc?.error ?? "", /unreachable|ECONNREFUSED/);
  assert.equal(s3.service.runtime.status, "running");
  assert.equal(s3.service.runtime.pid, 4242);
  assert.equal(s3.service.loaded, true);
  assert.equal(s3.port.status, "free");
  assert.equal(s3.lastError, "Gateway failed to start: ERROR listen EADDRINUSE 127.0.0.1:1");

  // The human rendering of the same report (the CLI prints exactly these lines).
  const human = formatStatusReport(s3 as unknown as GatewayStatusReport).join("\n");
  assert.match(human, new RegExp(`^Config \\(cli\\): ${env.configPath} \\(valid\\)$`, "m"));
  assert.match(human, new RegExp(`^Probe target: ws://127\\.0\\.0\\.1:${gw.port}$`, "m"));
  assert.match(human, /^ {2}Runtime: running \(active\/running, pid 4242/m);
  assert.match(human, /^RPC probe: failed/m);
  assert.match(human, /^Last gateway error: Gateway failed to start: ERROR listen EADDRINUSE/m);
});
