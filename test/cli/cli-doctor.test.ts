/**
 * `clawdbot doctor` through the real CLI: a stale unit, loose state-dir permissions, a
 * weak token and a port held by a non-gateway are reported; `--yes` fixes what it can.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { makeCliEnv, runCli } from "../helpers/cli.js";
import { makeToolStub } from "../helpers/tool-stub.js";
import { secretWeakness } from "../../src/cli/doctor/check-token.js";

interface Check {
  id: string;
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
  fixed?: boolean;
}

function parseReport(stdout: string): { ok: boolean; checks: Check[] } {
  try {
    return JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  } catch {
    throw new Error(`not JSON:\n${stdout}`);
  }
}

const byId = (checks: Check[], id: string): Check => {
  const c = checks.find((x) => x.id === id);
  assert.ok(c, `no ${id} check`);
  return c;
};

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

test("doctor reports a stale unit, loose permissions, a weak token and a foreign port listener; --yes fixes unit and permissions", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const systemctl = await makeToolStub(env.home, "systemctl");
  const e = { ...env.env, CLAWDBOT_SYSTEMCTL: systemctl.bin };

  // Something that is not a gateway holds the configured port.
  const squatter = http.createServer((_req, res) => res.writeHead(404).end("not a gateway"));
  await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
  t.after(() => squatter.close());
  const port = (squatter.address() as AddressInfo).port;
  const weakToken = "short-token";
  await env.writeConfig({ gateway: { mode: "local", port, auth: { mode: "token", token: weakToken } } });

  const install = await runCli(["gateway", "install"], e);
  assert.equal(install.code, 0, install.stderr);
  const unitPath = join(env.home, ".config", "systemd", "user", "clawdbot-gateway.service");
  const current = await readFile(unitPath, "utf8");
  // An older install: no exit-78 guard, another version.
  await writeFile(unitPath, current.replace("RestartPreventExitStatus=78\n", "").replace(/CLAWDBOT_SERVICE_VERSION=.*/, "CLAWDBOT_SERVICE_VERSION=2025.1.1"));

  // Loose permissions on the state dir, a credential file and the config.
  const credDir = join(env.stateDir, "credentials", "whatsapp", "default");
  await mkdir(credDir, { recursive: true, mode: 0o755 });
  await writeFile(join(credDir, "creds.json"), "{}", { mode: 0o644 });
  await mkdir(join(env.stateDir, "devices"), { recursive: true });
  await writeFile(join(env.stateDir, "devices", "paired.json"), "{}", { mode: 0o644 });
  await chmod(env.configPath, 0o644);
  await chmod(env.stateDir, 0o755);

  const audit = await runCli(["doctor", "--json", "--non-interactive"], e);
  assert.equal(audit.code, 1, "a failed check exits 1");
  const r1 = parseReport(audit.stdout);
  assert.equal(r1.ok, false);
  assert.equal(byId(r1.checks, "config").status, "ok");
  const svc = byId(r1.checks, "service");
  assert.equal(svc.status, "warn");
  assert.match(svc.message, /RestartPreventExitStatus=78/);
  assert.match(svc.message, /CLAWDBOT_SERVICE_VERSION=2025\.1\.1/);
  assert.match(svc.fix ?? "", /doctor --fix/);
  assert.match(await readFile(unitPath, "utf8"), /VERSION=2025\.1\.1/, "not rewritten without --fix");
  const portCheck = byId(r1.checks, "port");
  assert.equal(portCheck.status, "fail");
  assert.match(portCheck.message, new RegExp(`port ${port} is in use by something that is not a Clawdbot gateway`));
  const token = byId(r1.checks, "token");
  assert.equal(token.status, "warn");
  assert.match(token.message, /gateway\.auth\.token is only 11 characters/);
  assert.ok(!audit.stdout.includes(weakToken), "the token is never printed");
  const perms = byId(r1.checks, "permissions");
  assert.equal(perms.status, "warn");
  for (const p of [env.stateDir, join(credDir, "creds.json"), join(env.stateDir, "devices", "paired.json"), env.configPath]) {
    assert.ok(perms.message.includes(p), `${p} not reported: ${perms.message}`);
  }

  await new Promise<void>((r) => squatter.close(() => r()));
  const fixed = await runCli(["doctor", "--json", "--yes"], e);
  const r2 = parseReport(fixed.stdout);
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.equal(r2.ok, true);
  assert.deepEqual([byId(r2.checks, "service").status, byId(r2.checks, "service").fixed], ["ok", true]);
  assert.equal(await readFile(unitPath, "utf8"), current, "rewritten to what install writes now");
  assert.equal((await systemctl.calls()).at(-1), "--user daemon-reload");
  assert.deepEqual([byId(r2.checks, "permissions").status, byId(r2.checks, "permissions").fixed], ["ok", true]);
  assert.equal(await mode(env.stateDir), 0o700);
  assert.equal(await mode(join(env.stateDir, "credentials")), 0o700);
  assert.equal(await mode(credDir), 0o700);
  assert.equal(await mode(join(credDir, "creds.json")), 0o600);
  assert.equal(await mode(join(env.stateDir, "devices", "paired.json")), 0o600);
  assert.equal(await mode(env.configPath), 0o600);
  assert.equal(byId(r2.checks, "port").status, "ok");
  assert.equal(byId(r2.checks, "token").status, "warn", "a weak token is not rewritten automatically");
});

test("token strength rules", () => {
  assert.match(secretWeakness("changeme") ?? "", /placeholder/);
  assert.match(secretWeakness("your-token-here") ?? "", /placeholder/);
  assert.match(secretWeakness("abcdefghijklmnopqrstuvw") ?? "", /23 characters/);
  assert.match(secretWeakness("abababababababababababababababab") ?? "", /low variety/);
  assert.equal(secretWeakness("9c2f5e8a1b4d7c0e3f6a9b2c5d8e1f4a"), undefined);
});

test("doctor: a token inline in a 0644 unit, or an env file others can read, is reported and moved into a 0600 EnvironmentFile", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const systemctl = await makeToolStub(env.home, "systemctl");
  const e = { ...env.env, CLAWDBOT_SYSTEMCTL: systemctl.bin };
  await env.writeConfig({ gateway: { mode: "local", port: 19871 } });
  const token = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";
  const install = await runCli(["gateway", "install", "--token", token], e);
  assert.equal(install.code, 0, install.stderr);
  const unitPath = join(env.home, ".config", "systemd", "user", "clawdbot-gateway.service");
  const envFile = join(env.stateDir, "gateway", "clawdbot-gateway.service.env");
  const current = await readFile(unitPath, "utf8");
  const envText = await readFile(envFile, "utf8");
  assert.ok(!current.includes(token));
  assert.equal(await mode(envFile), 0o600);

  // What older releases wrote: the token inline in the world-readable unit.
  await writeFile(unitPath, current.replace(/^EnvironmentFile=.*$/m, `Environment=CLAWDBOT_GATEWAY_TOKEN=${token}`), { mode: 0o644 });
  await chmod(unitPath, 0o644);
  await rm(envFile);
  const audit = await runCli(["doctor", "--json", "--non-interactive"], e);
  const svc = byId(parseReport(audit.stdout).checks, "service");
  assert.equal(svc.status, "warn");
  assert.match(svc.message, /EnvironmentFile=/);
  assert.ok(!audit.stdout.includes(token), "the token is never printed");
  const fixed = await runCli(["doctor", "--json", "--yes"], e);
  assert.deepEqual([byId(parseReport(fixed.stdout).checks, "service").status, byId(parseReport(fixed.stdout).checks, "service").fixed], ["ok", true]);
  assert.equal(await readFile(unitPath, "utf8"), current);
  assert.equal(await readFile(envFile, "utf8"), envText, "the token moved into the env file");
  assert.equal(await mode(envFile), 0o600);

  // An env file that others can read.
  await chmod(envFile, 0o644);
  const loose = await runCli(["doctor", "--json", "--non-interactive"], e);
  const svc2 = byId(parseReport(loose.stdout).checks, "service");
  assert.equal(svc2.status, "warn");
  assert.match(svc2.message, /holds the gateway token with mode 0644/);
  await runCli(["doctor", "--json", "--yes"], e);
  assert.equal(await mode(envFile), 0o600);

  // Uninstall removes the secrets with the unit.
  const removed = await runCli(["gateway", "uninstall"], e);
  assert.equal(removed.code, 0, removed.stderr);
  await assert.rejects(stat(envFile), { code: "ENOENT" });
});
