/**
 * `clawdbot setup`: starter config (local, loopback, generated token never printed),
 * workspace + sessions dir, no overwrite without --force, `--dev` defaults.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

import { makeCliEnv, runCli } from "../helpers/cli.js";
import { runSetup } from "../../src/cli/commands/setup-command.js";

interface StarterConfig {
  gateway: { mode: string; bind: string; auth: { mode: string; token: string } };
  agents: { defaults: { workspace: string } };
}

test("setup writes a starter config once, creates workspace and sessions, hides the token", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const workspace = join(env.home, "my space");

  const first = await runCli(["setup", "--workspace", workspace], env.env);
  assert.equal(first.code, 0, first.stderr);
  const raw = await readFile(env.configPath, "utf8");
  const cfg = JSON.parse(raw) as StarterConfig;
  assert.equal(cfg.gateway.mode, "local");
  assert.equal(cfg.gateway.bind, "loopback");
  assert.equal(cfg.gateway.auth.mode, "token");
  assert.match(cfg.gateway.auth.token, /^[0-9a-f]{64}$/);
  assert.equal(cfg.agents.defaults.workspace, workspace);
  assert.equal((await stat(env.configPath)).mode & 0o777, 0o600);
  assert.ok((await stat(workspace)).isDirectory());
  assert.ok((await stat(join(env.stateDir, "agents", "main", "sessions"))).isDirectory());
  assert.ok(!first.stdout.includes(cfg.gateway.auth.token) && !first.stderr.includes(cfg.gateway.auth.token), "token printed");
  assert.match(first.stdout, /gateway\.auth\.token/);
  assert.match(first.stdout, new RegExp(env.configPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

  const again = await runCli(["setup"], env.env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already exists; left unchanged \(pass --force/);
  assert.equal(await readFile(env.configPath, "utf8"), raw, "existing config untouched");

  // --force (in-process: the same code path the command runs).
  const result = await runSetup({ force: true }, env.env, env.home);
  assert.deepEqual([result.wroteConfig, result.workspace], [true, join(env.home, "clawd")]);
  const replaced = JSON.parse(await readFile(env.configPath, "utf8")) as StarterConfig;
  assert.notEqual(replaced.gateway.auth.token, cfg.gateway.auth.token, "a new token");
  assert.equal(await readFile(`${env.configPath}.bak`, "utf8"), raw, "the old config is kept as .bak");
});

test("--dev setup uses ~/.clawdbot-dev and ~/clawd-dev", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const { CLAWDBOT_STATE_DIR: _s, CLAWDBOT_CONFIG_PATH: _c, ...base } = env.env;
  const r = await runCli(["--dev", "setup"], base);
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(await readFile(join(env.home, ".clawdbot-dev", "clawdbot.json"), "utf8")) as StarterConfig;
  assert.equal(cfg.agents.defaults.workspace, join(env.home, "clawd-dev"));
  assert.ok((await stat(join(env.home, "clawd-dev"))).isDirectory());
  assert.ok((await stat(join(env.home, ".clawdbot-dev", "agents", "main", "sessions"))).isDirectory());
  assert.match(r.stdout, /clawdbot --dev gateway/);
});
