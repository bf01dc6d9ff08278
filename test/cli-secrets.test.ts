import { test } from "node:test";
import assert from "node:assert/strict";

import { gatewaySecretProblem, MIN_GATEWAY_SECRET_LENGTH } from "../src/shared/config/secret-strength.js";
import { makeCliEnv, runCli } from "./helpers/cli.js";

test("placeholder and too-short secrets are named as such; real ones pass", () => {
  for (const p of ["change-me", "CHANGE_ME", "your-token-here", "<token>", "${TOKEN}", "xxxxxxxxxxxxxxxxxxxx", "secret", "password"]) {
    assert.match(gatewaySecretProblem(p) ?? "", /placeholder/, p);
  }
  for (const s of ["a", "tok-123", "0123456789abcde"]) assert.match(gatewaySecretProblem(s) ?? "", /too short/, s);
  assert.equal(MIN_GATEWAY_SECRET_LENGTH, 16);
  for (const ok of ["0123456789abcdef", "lifecycle-token-0123456789abcdef", "correct horse battery staple"]) assert.equal(gatewaySecretProblem(ok), undefined, ok);
});

test("the gateway refuses placeholder and too-short secrets from config, env and flags with exit 78", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const cases: { auth: Record<string, string>; args?: string[]; extraEnv?: Record<string, string>; re: RegExp }[] = [
    { auth: { token: "change-me" }, re: /gateway\.auth\.token is a placeholder/ },
    { auth: { token: "your-token-here" }, re: /gateway\.auth\.token is a placeholder/ },
    { auth: { token: "<token>" }, re: /gateway\.auth\.token is a placeholder/ },
    { auth: { token: "a" }, re: /gateway\.auth\.token is too short \(1 characters; at least 16 required\)/ },
    { auth: { password: "hunter2" }, re: /gateway\.auth\.password is too short/ },
    { auth: {}, extraEnv: { CLAWDBOT_GATEWAY_TOKEN: "your-token-here" }, re: /CLAWDBOT_GATEWAY_TOKEN is a placeholder/ },
    { auth: {}, args: ["--token", "short"], re: /--token is too short/ },
  ];
  for (const c of cases) {
    await env.writeConfig({ gateway: { mode: "local", auth: c.auth } });
    const r = await runCli(["gateway", "--port", "0", ...(c.args ?? [])], { ...env.env, ...c.extraEnv });
    assert.equal(r.code, 78, `${JSON.stringify(c)}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, c.re);
    assert.doesNotMatch(r.stdout, /Gateway listening/);
  }
});
