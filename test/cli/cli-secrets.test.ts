import { test } from "node:test";
import assert from "node:assert/strict";

import { applyConfigDefaults } from "../../src/shared/config/defaults.js";
import type { ClawdbotConfig } from "../../src/shared/config/schema.js";
import { gatewaySecretProblem, MIN_GATEWAY_SECRET_LENGTH } from "../../src/shared/config/secret-strength.js";
import { resolveRuntime, type GatewayRunFlags } from "../../src/main/lifecycle/runtime-options.js";
import { makeCliEnv, runCli } from "../helpers/cli.js";

const PATHS = { configPath: "/nonexistent/clawdbot.json", stateDir: "/nonexistent/state" };

test("placeholder and too-short secrets are named as such; real ones pass", () => {
  for (const p of ["change-me", "CHANGE_ME", "your-token-here", "<token>", "${TOKEN}", "xxxxxxxxxxxxxxxxxxxx", "secret", "password"]) {
    assert.match(gatewaySecretProblem(p) ?? "", /placeholder/, p);
  }
  for (const s of ["a", "tok-123", "0123456789abcde"]) assert.match(gatewaySecretProblem(s) ?? "", /too short/, s);
  assert.equal(MIN_GATEWAY_SECRET_LENGTH, 16);
  for (const ok of ["0123456789abcdef", "lifecycle-token-0123456789abcdef", "correct horse battery staple"]) assert.equal(gatewaySecretProblem(ok), undefined, ok);
});

test("runtime resolution (start, reload, restart) refuses weak secrets from config, env and flags, naming the source", async () => {
  const cases: { auth: Record<string, string>; flags?: GatewayRunFlags; env?: Record<string, string>; re: RegExp }[] = [
    { auth: { token: "change-me" }, re: /^gateway\.auth\.token is a placeholder/ },
    { auth: { token: "your-token-here" }, re: /^gateway\.auth\.token is a placeholder/ },
    { auth: { token: "<token>" }, re: /^gateway\.auth\.token is a placeholder/ },
    { auth: { token: "a" }, re: /^gateway\.auth\.token is too short \(1 characters; at least 16 required\)/ },
    { auth: { password: "hunter2" }, re: /^gateway\.auth\.password is too short/ },
    { auth: {}, env: { CLAWDBOT_GATEWAY_PASSWORD: "your-password" }, re: /^CLAWDBOT_GATEWAY_PASSWORD is a placeholder/ },
    { auth: { token: "0123456789abcdef0123" }, flags: { token: "t1ny-val" }, re: /^--token is too short/ },
  ];
  for (const c of cases) {
    const config = applyConfigDefaults({ gateway: { mode: "local", auth: c.auth } } as ClawdbotConfig);
    await assert.rejects(resolveRuntime(config, c.flags ?? {}, c.env ?? {}, PATHS), (err: Error & { code?: string }) => {
      assert.equal(err.code, "GW_ERR_AUTH_CONFIG", JSON.stringify(c));
      assert.match(err.message, c.re);
      const value = c.flags?.token ?? c.auth.token ?? c.auth.password ?? c.env?.CLAWDBOT_GATEWAY_PASSWORD ?? "";
      if (value.length > 1) assert.ok(!err.message.includes(value), `the value is not printed: ${err.message}`);
      return true;
    });
  }
  const good = applyConfigDefaults({ gateway: { mode: "local", auth: { token: "0123456789abcdef0123" } } } as ClawdbotConfig);
  assert.equal((await resolveRuntime(good, {}, {}, PATHS)).options.auth.token, "0123456789abcdef0123");
});

test("the gateway exits 78 on a weak secret from config, env or --token", async (t) => {
  const cases: { auth: Record<string, string>; args?: string[]; extraEnv?: Record<string, string>; re: RegExp }[] = [
    { auth: { token: "change-me" }, re: /gateway\.auth\.token is a placeholder/ },
    { auth: {}, extraEnv: { CLAWDBOT_GATEWAY_TOKEN: "your-token-here" }, re: /CLAWDBOT_GATEWAY_TOKEN is a placeholder/ },
    { auth: {}, args: ["--token", "a"], re: /--token is too short/ },
  ];
  await Promise.all(
    cases.map(async (c) => {
      const env = await makeCliEnv();
      t.after(() => env.cleanup());
      await env.writeConfig({ gateway: { mode: "local", auth: c.auth } });
      const r = await runCli(["gateway", "--port", "0", ...(c.args ?? [])], { ...env.env, ...c.extraEnv });
      assert.equal(r.code, 78, `${JSON.stringify(c)}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, c.re);
      assert.doesNotMatch(r.stdout, /Gateway listening/);
    }),
  );
});
