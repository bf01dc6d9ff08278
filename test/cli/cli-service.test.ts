/**
 * `clawdbot gateway install|uninstall|start|stop|restart` through the real CLI with a
 * temp HOME/XDG_CONFIG_HOME and `systemctl`/`launchctl` stubbed at the process boundary.
 * Units are checked by `systemd-analyze verify`, plists by an independent parser.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { makeCliEnv, runCli } from "../helpers/cli.js";
import { parsePlistStrict } from "../helpers/plist.js";
import { makeToolStub } from "../helpers/tool-stub.js";
import { createServiceManager } from "../../src/cli/service/create-manager.js";
import { parseLaunchdPlist, renderLaunchdPlist } from "../../src/cli/service/launchd-plist.js";
import { controlService, installService } from "../../src/cli/service/service-lifecycle.js";
import { buildServiceSpec } from "../../src/cli/service/service-spec.js";
import { parseSystemdUnit, renderSystemdUnit } from "../../src/cli/service/systemd-unit.js";
import { parseEnvironmentFile, renderEnvironmentFile } from "../../src/cli/service/service-secrets.js";
import { CLI_VERSION } from "../../src/cli/version.js";
import { tempDir } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = join(ROOT, "dist", "src", "cli", "entry.js");
const UID = process.getuid?.() ?? 0;

/** `systemd-analyze verify --user <unit>`: null when it passed, a reason string to skip, or throws. */
async function verifyUnit(unitPath: string): Promise<{ skipped: string } | { stderr: string }> {
  const runtime = await mkdtemp(join(tmpdir(), "clawgate-xdg-runtime-"));
  try {
    return await new Promise((resolve, reject) => {
      execFile(
        "systemd-analyze",
        ["verify", "--user", unitPath],
        { timeout: 20_000, env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: "0" } },
        (err, _stdout, stderr) => {
          if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return resolve({ skipped: "systemd-analyze is not installed" });
          if (/Failed to (initialize manager|lookup RuntimeDirectory|connect to bus)/.test(stderr)) return resolve({ skipped: `systemd-analyze cannot run here: ${stderr.trim()}` });
          if (err) return reject(new Error(`systemd-analyze verify failed: ${stderr}`));
          resolve({ stderr });
        },
      );
    });
  } finally {
    await rm(runtime, { recursive: true, force: true });
  }
}

async function assertUnitVerifies(unitPath: string): Promise<void> {
  const r = await verifyUnit(unitPath);
  if ("skipped" in r) {
    process.stdout.write(`# skipping systemd-analyze assertion: ${r.skipped}\n`);
    return;
  }
  // verify exits 0 on unknown keys and bad values; they show up as warnings naming the file.
  const name = unitPath.split("/").pop() ?? "";
  const complaints = r.stderr.split("\n").filter((l) => l.includes(name));
  assert.deepEqual(complaints, [], `systemd-analyze complained:\n${r.stderr}`);
}

function parseJson(stdout: string): Record<string, unknown> {
  try {
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON:\n${stdout}`);
  }
}

test("install writes the systemd user unit; again is a no-op; --force rewrites; start/stop/restart/uninstall drive systemctl", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const systemctl = await makeToolStub(env.home, "systemctl");
  await systemctl.setStatus("ActiveState=inactive\nSubState=dead\nMainPID=0\nExecMainStatus=0\nUnitFileState=enabled\nLoadState=loaded\n");
  const e = { ...env.env, CLAWDBOT_SYSTEMCTL: systemctl.bin };
  await env.writeConfig({ gateway: { mode: "local", port: 19876 } });
  const unitPath = join(env.home, ".config", "systemd", "user", "clawdbot-gateway.service");

  const first = await runCli(["gateway", "install", "--json"], e);
  assert.equal(first.code, 0, first.stderr);
  const r1 = parseJson(first.stdout);
  assert.equal(r1.ok, true);
  assert.equal(r1.action, "install");
  assert.equal(r1.result, "installed");
  const unit = await readFile(unitPath, "utf8");
  const lines = unit.split("\n");
  for (const expected of [
    "[Unit]",
    "Description=Clawdbot Gateway",
    "After=network-online.target",
    "Wants=network-online.target",
    "[Service]",
    `ExecStart=${process.execPath} --inspect-publish-uid=stderr ${ENTRY} gateway --port 19876`,
    "Restart=always",
    "RestartSec=5",
    "KillMode=process",
    "RestartPreventExitStatus=78",
    "SuccessExitStatus=0 143",
    `WorkingDirectory=${env.home}`,
    `Environment=HOME=${env.home}`,
    `Environment=CLAWDBOT_STATE_DIR=${env.stateDir}`,
    `Environment=CLAWDBOT_CONFIG_PATH=${env.configPath}`,
    "Environment=CLAWDBOT_GATEWAY_PORT=19876",
    "Environment=CLAWDBOT_SYSTEMD_UNIT=clawdbot-gateway.service",
    "Environment=CLAWDBOT_SERVICE_MARKER=clawdbot",
    "Environment=CLAWDBOT_SERVICE_KIND=gateway",
    `Environment=CLAWDBOT_SERVICE_VERSION=${CLI_VERSION}`,
    "[Install]",
    "WantedBy=default.target",
  ]) {
    assert.ok(lines.includes(expected), `missing line ${JSON.stringify(expected)} in:\n${unit}`);
  }
  const pathLine = lines.find((l) => l.startsWith("Environment=PATH="));
  assert.ok(pathLine?.startsWith(`Environment=PATH=${dirname(process.execPath)}`), pathLine);
  assert.ok(!unit.includes("CLAWDBOT_GATEWAY_TOKEN"), "no token without --token");
  assert.ok(!unit.includes("CLAWDBOT_PROFILE"), "no profile without --profile");
  assert.deepEqual((await systemctl.calls()).slice(0, 2), ["--user daemon-reload", "--user enable --now clawdbot-gateway.service"]);
  await assertUnitVerifies(unitPath);

  // Installed and unchanged: nothing is written or re-enabled. (In-process, same stub
  // at the process boundary; the CLI wiring is covered by the spawned runs around it.)
  const mgr = createServiceManager({ env: e, homedir: env.home, platform: "linux" });
  const installOpts = { env: e, homedir: env.home, version: CLI_VERSION };
  const before = await stat(unitPath);
  const again = await installService(mgr, installOpts);
  assert.equal(again.result, "already-installed");
  assert.equal((await stat(unitPath)).mtimeMs, before.mtimeMs);
  assert.equal((await systemctl.calls()).filter((c) => c.includes("enable")).length, 1);

  // A drifted unit is reported but kept without --force, rewritten with it.
  await writeFile(unitPath, unit.replace("RestartSec=5", "RestartSec=60"));
  const drifted = await installService(mgr, installOpts);
  assert.equal(drifted.result, "already-installed");
  assert.match(JSON.stringify(drifted.warnings), /--force/);
  assert.match(await readFile(unitPath, "utf8"), /RestartSec=60/);
  const forced = await runCli(["gateway", "install", "--force", "--json"], e);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(parseJson(forced.stdout).result, "reinstalled");
  assert.equal(await readFile(unitPath, "utf8"), unit);
  assert.equal((await systemctl.calls()).filter((c) => c === "--user enable --now clawdbot-gateway.service").length, 2);

  for (const action of ["start", "stop"] as const) {
    const r = await controlService(mgr, action);
    assert.equal(r.ok, true, r.error);
    assert.equal((await systemctl.calls()).at(-2), `--user ${action} clawdbot-gateway.service`);
  }
  const restart = await runCli(["gateway", "restart", "--json"], e);
  assert.equal(restart.code, 0, restart.stderr);
  assert.deepEqual(parseJson(restart.stdout), {
    ok: true,
    action: "restart",
    result: "restarted",
    message: "restarted clawdbot-gateway.service",
    service: { label: "clawdbot-gateway.service", loaded: true, loadedText: "enabled", notLoadedText: "disabled", definitionPath: unitPath },
  });
  assert.ok((await systemctl.calls()).includes("--user restart clawdbot-gateway.service"));

  const removed = await runCli(["gateway", "uninstall", "--json"], e);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(parseJson(removed.stdout).result, "uninstalled");
  await assert.rejects(stat(unitPath), /ENOENT/);
  const calls = await systemctl.calls();
  assert.equal(calls.at(-2), "--user disable --now clawdbot-gateway.service");
  assert.equal(calls.at(-1), "--user daemon-reload");
});

test("a named profile gets its own unit, description, env and default state dir", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const systemctl = await makeToolStub(env.home, "systemctl");
  const { CLAWDBOT_STATE_DIR: _s, CLAWDBOT_CONFIG_PATH: _c, ...base } = env.env;
  const token = "f3c1e0a9b8d7c6b5a4f3e2d1c0b9a8f7";
  const r = await runCli(["--profile", "rescue", "gateway", "install", "--port", "19555", "--token", token, "--json"], { ...base, CLAWDBOT_SYSTEMCTL: systemctl.bin });
  assert.equal(r.code, 0, r.stderr);
  const unitPath = join(env.home, ".config", "systemd", "user", "clawdbot-gateway-rescue.service");
  const unit = await readFile(unitPath, "utf8");
  const parsed = parseSystemdUnit(unit);
  assert.match(unit, new RegExp(`^Description=Clawdbot Gateway \\(profile: rescue, v${CLI_VERSION.replace(/\./g, "\\.")}\\)$`, "m"));
  assert.deepEqual(parsed.programArguments.slice(1), ["--inspect-publish-uid=stderr", ENTRY, "gateway", "--port", "19555"]);
  assert.equal(parsed.environment.CLAWDBOT_PROFILE, "rescue");
  assert.equal(parsed.environment.CLAWDBOT_STATE_DIR, join(env.home, ".clawdbot-rescue"));
  assert.equal(parsed.environment.CLAWDBOT_CONFIG_PATH, join(env.home, ".clawdbot-rescue", "clawdbot.json"));
  // The token is not in the (0644) unit but in its 0600 EnvironmentFile.
  assert.ok(!unit.includes(token), "the token is not in the unit file");
  assert.equal(parsed.environment.CLAWDBOT_GATEWAY_TOKEN, undefined);
  const envFile = join(env.home, ".clawdbot-rescue", "gateway", "clawdbot-gateway-rescue.service.env");
  assert.deepEqual(parsed.environmentFiles, [envFile]);
  assert.equal((await stat(envFile)).mode & 0o777, 0o600);
  assert.equal((await stat(unitPath)).mode & 0o777, 0o644);
  assert.equal(parseEnvironmentFile(await readFile(envFile, "utf8")).CLAWDBOT_GATEWAY_TOKEN, token);
  assert.equal(parsed.environment.CLAWDBOT_SYSTEMD_UNIT, "clawdbot-gateway-rescue.service");
  assert.ok((await systemctl.calls()).includes("--user enable --now clawdbot-gateway-rescue.service"));
  assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), "the token is not echoed");
  await assertUnitVerifies(unitPath);
});

test("ExecStart/Environment quoting survives hostile paths and systemd-analyze accepts it", async (t) => {
  const dir = tempDir(t, "clawgate-unit-");
  const spec = buildServiceSpec({
    manager: "systemd",
    env: { CLAWDBOT_PROFILE: "odd", CLAWDBOT_STATE_DIR: join(dir, "state with space"), CLAWDBOT_CONFIG_PATH: join(dir, `it's "q" 100%\\cfg.json`) },
    homedir: join(dir, "home dir"),
    port: 18789,
    token: "tok$en with space%",
    version: "1.2.3",
    cliEntry: join(dir, `dist dir/it's "main" $HOME %h\\x.js`),
  });
  const unitPath = join(dir, "clawdbot-gateway-odd.service");
  const text = renderSystemdUnit(spec);
  await writeFile(unitPath, text);
  const back = parseSystemdUnit(text);
  assert.deepEqual(back.programArguments, spec.programArguments);
  const { CLAWDBOT_GATEWAY_TOKEN: secret, ...plain } = spec.environment;
  assert.deepEqual(back.environment, plain, "everything but the secret is inline");
  assert.deepEqual(back.environmentFiles, [spec.secretsPath]);
  assert.ok(!text.includes("tok$en"), "the secret is not in the unit");
  // The env file round-trips hostile secrets literally (no $ expansion, no % specifiers).
  for (const s of [secret as string, `it's "q" $HOME \\ \`x\``]) {
    assert.equal(parseEnvironmentFile(renderEnvironmentFile({ CLAWDBOT_GATEWAY_TOKEN: s })).CLAWDBOT_GATEWAY_TOKEN, s);
  }
  assert.equal(back.workingDirectory, spec.workingDirectory);
  assert.throws(() => renderSystemdUnit({ ...spec, environment: { BAD: "a\nb" } }), /newline/);
  await assertUnitVerifies(unitPath);
});

test("macOS: LaunchAgent plist per profile, parsed back; launchctl bootstrap/kickstart argv", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const launchctl = await makeToolStub(env.home, "launchctl");
  const e = { ...env.env, CLAWDBOT_SERVICE_PLATFORM: "darwin", CLAWDBOT_LAUNCHCTL: launchctl.bin };
  const r = await runCli(["--profile", "rescue", "gateway", "install", "--port", "19600", "--json"], e);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseJson(r.stdout).result, "installed");
  const plistPath = join(env.home, "Library", "LaunchAgents", "com.clawdbot.rescue.plist");
  assert.equal((await stat(plistPath)).mode & 0o777, 0o600, "a plist may hold the token: 0600");
  const plist = parsePlistStrict(await readFile(plistPath, "utf8")) as Record<string, unknown>;
  assert.equal(plist.Label, "com.clawdbot.rescue");
  assert.equal(plist.Comment, `Clawdbot Gateway (profile: rescue, v${CLI_VERSION})`);
  assert.equal(plist.RunAtLoad, true);
  assert.equal(plist.KeepAlive, true);
  assert.deepEqual(plist.ProgramArguments, [process.execPath, "--inspect-publish-uid=stderr", ENTRY, "gateway", "--port", "19600"]);
  assert.equal(plist.WorkingDirectory, env.home);
  assert.equal(plist.StandardOutPath, join(env.stateDir, "logs", "gateway.log"));
  assert.equal(plist.StandardErrorPath, join(env.stateDir, "logs", "gateway.err.log"));
  const vars = plist.EnvironmentVariables as Record<string, string>;
  assert.equal(vars.CLAWDBOT_LAUNCHD_LABEL, "com.clawdbot.rescue");
  assert.equal(vars.CLAWDBOT_PROFILE, "rescue");
  assert.equal(vars.CLAWDBOT_SERVICE_MARKER, "clawdbot");
  assert.equal(vars.CLAWDBOT_GATEWAY_PORT, "19600");
  assert.equal(vars.CLAWDBOT_SYSTEMD_UNIT, undefined);
  assert.equal(vars.CLAWDBOT_GATEWAY_TOKEN, undefined, "empty values are left out");
  assert.ok((await launchctl.calls()).includes(`bootstrap gui/${UID} ${plistPath}`), (await launchctl.calls()).join("\n"));

  const mgr = createServiceManager({ env: { ...e, CLAWDBOT_PROFILE: "rescue" }, homedir: env.home });
  assert.equal(mgr.label, "com.clawdbot.rescue");
  assert.equal((await controlService(mgr, "restart")).ok, true);
  assert.ok((await launchctl.calls()).includes(`kickstart -k gui/${UID}/com.clawdbot.rescue`));
  assert.equal((await controlService(mgr, "stop")).ok, true);
  assert.ok((await launchctl.calls()).includes(`bootout gui/${UID}/com.clawdbot.rescue`));

  // Escaping: every XML special character round-trips through the independent parser.
  const hostile = `a&b<c>d"e'f ]]> &amp;`;
  const spec = buildServiceSpec({ manager: "launchd", env: { CLAWDBOT_STATE_DIR: `/s/${hostile}` }, homedir: `/h/${hostile}`, port: 1, version: "1", cliEntry: `/e/${hostile}`, token: hostile });
  const back = parsePlistStrict(renderLaunchdPlist(spec)) as Record<string, unknown>;
  assert.deepEqual(back.ProgramArguments, spec.programArguments);
  assert.equal(back.WorkingDirectory, `/h/${hostile}`);
  assert.equal((back.EnvironmentVariables as Record<string, string>).CLAWDBOT_GATEWAY_TOKEN, hostile);
  // The reader `gateway status`/`doctor` use agrees with the independent parser.
  assert.deepEqual(parseLaunchdPlist(renderLaunchdPlist(spec)), {
    programArguments: spec.programArguments,
    workingDirectory: spec.workingDirectory,
    environment: spec.environment,
  });
});
