import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authFailureMessage,
  authorizeShared,
  classifyAuthClient,
  isLoopbackBind,
  resolveAuthConfig,
  safeEqualSecret,
} from "../../src/main/auth/shared-auth.js";
import type { AuthClientKind, ResolveAuthParams, ResolvedAuth } from "../../src/main/auth/shared-auth.js";
import { AUTH_RATE_LIMITED_MESSAGE, AuthRateLimiter, rateLimitKey } from "../../src/main/auth/auth-rate-limit.js";
import { GatewayError } from "../../src/shared/errors.js";

function configError(p: ResolveAuthParams): GatewayError {
  try {
    resolveAuthConfig(p);
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_AUTH_CONFIG");
    return err;
  }
  assert.fail("expected resolveAuthConfig to throw");
}

test("resolveAuthConfig: token/password from config or env, mode inferred", () => {
  assert.deepEqual(resolveAuthConfig({ env: {}, bind: "loopback" }), { mode: "none" });
  assert.deepEqual(resolveAuthConfig({ configAuth: { token: "s3cret-token" }, env: {}, bind: "lan" }), { mode: "token", token: "s3cret-token" });
  assert.deepEqual(resolveAuthConfig({ env: { CLAWDBOT_GATEWAY_TOKEN: "env-token" }, bind: "lan" }), { mode: "token", token: "env-token" });
  assert.deepEqual(resolveAuthConfig({ env: { CLAWDBOT_GATEWAY_PASSWORD: "env-pw" }, bind: "lan" }), { mode: "password", password: "env-pw" });
  // password wins the inference when both are set
  assert.deepEqual(resolveAuthConfig({ configAuth: { token: "tok-1234" }, env: { CLAWDBOT_GATEWAY_PASSWORD: "pw-1234" }, bind: "loopback" }), {
    mode: "password",
    password: "pw-1234",
  });
  // config beats env; CLI beats config
  assert.deepEqual(resolveAuthConfig({ configAuth: { token: "cfg-tok" }, env: { CLAWDBOT_GATEWAY_TOKEN: "env-tok" }, bind: "loopback" }).token, "cfg-tok");
  assert.deepEqual(
    resolveAuthConfig({ configAuth: { token: "cfg-tok" }, cliOverrides: { token: "cli-tok" }, env: {}, bind: "loopback" }).token,
    "cli-tok",
  );
  // explicit mode selects the secret even when the other one is set
  assert.deepEqual(resolveAuthConfig({ configAuth: { mode: "token", token: "tok-1", password: "pw-1" }, env: {}, bind: "loopback" }), {
    mode: "token",
    token: "tok-1",
  });
  assert.deepEqual(resolveAuthConfig({ configAuth: { mode: "none", token: "tok-1" }, env: {}, bind: "loopback" }), { mode: "none" });
});

test("resolveAuthConfig defaults env to process.env", () => {
  const saved = process.env.CLAWDBOT_GATEWAY_TOKEN;
  process.env.CLAWDBOT_GATEWAY_TOKEN = "from-process-env";
  try {
    assert.deepEqual(resolveAuthConfig({ bind: "loopback" }), { mode: "token", token: "from-process-env" });
  } finally {
    if (saved === undefined) delete process.env.CLAWDBOT_GATEWAY_TOKEN;
    else process.env.CLAWDBOT_GATEWAY_TOKEN = saved;
  }
});

test("resolveAuthConfig refuses a mode without its secret", () => {
  const t = configError({ configAuth: { mode: "token" }, env: {}, bind: "loopback" });
  assert.match(t.message, /no token is set: set gateway\.auth\.token or CLAWDBOT_GATEWAY_TOKEN/);
  const p = configError({ configAuth: { mode: "password", token: "tok-123" }, env: {}, bind: "loopback" });
  assert.match(p.message, /no password is set: set gateway\.auth\.password or CLAWDBOT_GATEWAY_PASSWORD/);
  assert.match(configError({ configAuth: { mode: "tailscale" }, env: {}, bind: "loopback" }).message, /gateway\.auth\.mode must be/);
});

test("resolveAuthConfig refuses placeholder secrets, naming where they came from", () => {
  const cases: [ResolveAuthParams, RegExp][] = [
    [{ configAuth: { token: "changeme" }, env: {}, bind: "loopback" }, /^gateway\.auth\.token is a placeholder \("changeme"\)/],
    [{ configAuth: { token: "  ChangeMe " }, env: {}, bind: "loopback" }, /placeholder \("ChangeMe"\)/],
    [{ configAuth: { password: "undefined" }, env: {}, bind: "loopback" }, /^gateway\.auth\.password is a placeholder/],
    [{ env: { CLAWDBOT_GATEWAY_TOKEN: "null" }, bind: "loopback" }, /^CLAWDBOT_GATEWAY_TOKEN is a placeholder/],
    [{ env: { CLAWDBOT_GATEWAY_PASSWORD: "NULL" }, bind: "loopback" }, /^CLAWDBOT_GATEWAY_PASSWORD is a placeholder/],
    [{ env: { CLAWDBOT_GATEWAY_TOKEN: "" }, bind: "loopback" }, /placeholder \(""\)/],
    [{ configAuth: { token: "   " }, env: {}, bind: "lan" }, /placeholder \(""\)/],
    [{ cliOverrides: { token: "changeme" }, configAuth: { token: "good-one" }, env: {}, bind: "loopback" }, /^--token is a placeholder/],
  ];
  for (const [params, re] of cases) {
    const err = configError(params);
    assert.match(err.message, re);
    assert.match(err.message, /set a real (token|password)/);
    assert.deepEqual(err.details, { reason: "placeholder_secret" });
  }
  // a placeholder in the secret the mode does not use is irrelevant
  assert.deepEqual(resolveAuthConfig({ configAuth: { mode: "token", token: "real-token", password: "changeme" }, env: {}, bind: "lan" }), {
    mode: "token",
    token: "real-token",
  });
});

test("resolveAuthConfig refuses a non-loopback bind without auth", () => {
  for (const bind of ["lan", "tailnet", "auto", "custom", "0.0.0.0", "192.168.1.10", "::"]) {
    const err = configError({ env: {}, bind });
    assert.ok(err.message.startsWith(`Refusing to bind gateway to ${bind} without auth.`), err.message);
  }
  for (const bind of ["loopback", "127.0.0.1", "::1", "localhost"]) {
    assert.equal(isLoopbackBind(bind), true);
    assert.deepEqual(resolveAuthConfig({ env: {}, bind }), { mode: "none" });
  }
  assert.match(configError({ configAuth: { mode: "none" }, env: {}, bind: "lan" }).message, /^Refusing to bind gateway to lan without auth\./);
});

test("safeEqualSecret: equal strings only, never throws, no length shortcut", () => {
  assert.equal(safeEqualSecret("abc", "abc"), true);
  assert.equal(safeEqualSecret("é", "é"), true);
  assert.equal(safeEqualSecret("é", "e"), false);
  assert.equal(safeEqualSecret("e\u0301", "é"), false, "NFD vs NFC are different bytes");
  assert.equal(safeEqualSecret("\ud800", "\udc00"), false, "lone surrogates are not merged");
  assert.equal(safeEqualSecret("abc", "abcd"), false);
  assert.equal(safeEqualSecret("a".repeat(100_000), "a"), false);
  assert.equal(safeEqualSecret("", ""), false, "empty never matches");
  assert.equal(safeEqualSecret("", "x"), false);
  for (const v of [undefined, null, 1, {}, ["abc"], Buffer.from("abc")]) {
    assert.equal(safeEqualSecret(v, "abc"), false);
    assert.equal(safeEqualSecret("abc", v), false);
  }
});

const TOKEN_AUTH: ResolvedAuth = { mode: "token", token: "the-token" };
const PW_AUTH: ResolvedAuth = { mode: "password", password: "the-password" };

test("authorizeShared: every outcome", () => {
  assert.deepEqual(authorizeShared({ auth: { mode: "none" }, connectAuth: undefined }), { ok: true, method: "none" });
  assert.deepEqual(authorizeShared({ auth: TOKEN_AUTH, connectAuth: { token: "the-token" } }), { ok: true, method: "token" });
  assert.deepEqual(authorizeShared({ auth: PW_AUTH, connectAuth: { password: "the-password" } }), { ok: true, method: "password" });
  const reason = (auth: ResolvedAuth, connectAuth: { token?: unknown; password?: unknown } | null | undefined): string | undefined => {
    const r = authorizeShared({ auth, connectAuth });
    return r.ok ? undefined : r.reason;
  };
  assert.equal(reason({ mode: "token" }, { token: "x" }), "token_missing_config");
  assert.equal(reason({ mode: "token", token: "" }, { token: "" }), "token_missing_config");
  assert.equal(reason(TOKEN_AUTH, undefined), "token_missing");
  assert.equal(reason(TOKEN_AUTH, null), "token_missing");
  assert.equal(reason(TOKEN_AUTH, { token: "" }), "token_missing");
  assert.equal(reason(TOKEN_AUTH, { token: 42 }), "token_missing");
  assert.equal(reason(TOKEN_AUTH, { password: "the-token" }), "token_missing");
  assert.equal(reason(TOKEN_AUTH, { token: "the-tokeN" }), "token_mismatch");
  assert.equal(reason(TOKEN_AUTH, { token: "the-token " }), "token_mismatch");
  assert.equal(reason({ mode: "password" }, { password: "x" }), "password_missing_config");
  assert.equal(reason(PW_AUTH, {}), "password_missing");
  assert.equal(reason(PW_AUTH, { token: "the-password" }), "password_missing");
  assert.equal(reason(PW_AUTH, { password: "wrong" }), "password_mismatch");
});

test("failure messages carry the hint for the kind of client", () => {
  const expected: Record<AuthClientKind, [string, string]> = {
    cli: ["set gateway.remote.token to match gateway.auth.token", "set gateway.remote.password to match gateway.auth.password"],
    "control-ui": ["open a tokenized dashboard URL or paste token in Control UI settings", "enter the password in Control UI settings"],
    webchat: ["open a tokenized dashboard URL or paste token in Control UI settings", "enter the password in Control UI settings"],
    other: ["provide gateway auth token", "provide gateway auth password"],
  };
  for (const [kind, [th, ph]] of Object.entries(expected) as [AuthClientKind, [string, string]][]) {
    assert.equal(authFailureMessage("token_missing", kind), `unauthorized: gateway token missing (${th})`);
    assert.equal(authFailureMessage("token_mismatch", kind), `unauthorized: gateway token mismatch (${th})`);
    assert.equal(authFailureMessage("password_missing", kind), `unauthorized: gateway password missing (${ph})`);
    assert.equal(authFailureMessage("password_mismatch", kind), `unauthorized: gateway password mismatch (${ph})`);
    assert.equal(authFailureMessage("token_missing_config", kind), "unauthorized: gateway token not configured on gateway (set gateway.auth.token)");
    assert.equal(
      authFailureMessage("password_missing_config", kind),
      "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
    );
    assert.equal(authFailureMessage("something_else", kind), "unauthorized");
    assert.equal(authFailureMessage(undefined, kind), "unauthorized");
  }
  const r = authorizeShared({ auth: TOKEN_AUTH, connectAuth: {}, clientKind: "control-ui" });
  assert.deepEqual(r, {
    ok: false,
    reason: "token_missing",
    message: "unauthorized: gateway token missing (open a tokenized dashboard URL or paste token in Control UI settings)",
  });
  const d = authorizeShared({ auth: PW_AUTH, connectAuth: { password: "x" } });
  assert.equal(d.ok === false && d.message, "unauthorized: gateway password mismatch (provide gateway auth password)");
});

test("classifyAuthClient follows §2.2 (CLI mode first)", () => {
  assert.equal(classifyAuthClient({ id: "cli", mode: "cli" }), "cli");
  assert.equal(classifyAuthClient({ id: "clawdbot-control-ui", mode: "cli" }), "cli");
  assert.equal(classifyAuthClient({ id: "clawdbot-control-ui", mode: "ui" }), "control-ui");
  assert.equal(classifyAuthClient({ id: "webchat-ui", mode: "ui" }), "webchat");
  assert.equal(classifyAuthClient({ id: "clawdbot-macos", mode: "webchat" }), "webchat");
  assert.equal(classifyAuthClient({ id: "clawdbot-ios", mode: "node" }), "other");
  assert.equal(classifyAuthClient(undefined), "other");
});

test("rate limiter: non-loopback failures drain a bucket that refills over time", () => {
  let now = 1_000_000;
  const rl = new AuthRateLimiter({ burst: 3, refillIntervalMs: 1000, now: () => now });
  const ip = "203.0.113.7";
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(rl.check(ip), { allowed: true });
    rl.recordFailure(ip);
  }
  assert.deepEqual(rl.check(ip), { allowed: false, retryAfterMs: 1000 });
  assert.deepEqual(rl.check("203.0.113.8"), { allowed: true }, "other clients are unaffected");
  now += 400;
  assert.deepEqual(rl.check(ip), { allowed: false, retryAfterMs: 600 });
  now += 600;
  assert.deepEqual(rl.check(ip), { allowed: true });
  rl.recordFailure(ip);
  assert.equal(rl.check(ip).allowed, false);
  now += 10_000;
  assert.deepEqual(rl.check(ip), { allowed: true });
  assert.equal(rl.size, 0, "a refilled bucket is forgotten");
  assert.match(AUTH_RATE_LIMITED_MESSAGE, /^unauthorized: too many failed authentication attempts/);
});

test("rate limiter: loopback has no bucket (it is delayed instead); IPv6 is keyed by /64", () => {
  const rl = new AuthRateLimiter({ burst: 1, refillIntervalMs: 60_000 });
  for (const ip of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
    for (let i = 0; i < 50; i++) rl.recordFailure(ip);
    assert.deepEqual(rl.check(ip), { allowed: true });
  }
  assert.equal(rl.size, 0);
  rl.recordFailure("2001:db8:1:2::1");
  assert.equal(rl.check("2001:db8:1:2:ffff::9").allowed, false, "same /64");
  assert.equal(rl.check("2001:0db8:0001:0002:0000:0000:0000:0042").allowed, false, "same /64, other spelling");
  assert.equal(rl.check("2001:db8:1:3::1").allowed, true, "other /64");
  assert.equal(rateLimitKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(rateLimitKey("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(rateLimitKey(undefined), "unknown");
  rl.recordFailure(undefined);
  assert.equal(rl.check(undefined).allowed, false, "unknown peers share one bucket");
});

test("rate limiter: map size is bounded with LRU eviction", () => {
  const rl = new AuthRateLimiter({ burst: 1, refillIntervalMs: 60_000, maxEntries: 100 });
  rl.recordFailure("198.51.100.1");
  for (let i = 0; i < 1000; i++) {
    rl.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    if (i % 10 === 0) assert.equal(rl.check("198.51.100.1").allowed, false, "recently seen entry survives");
    assert.ok(rl.size <= 100);
  }
  assert.equal(rl.size, 100);
  assert.equal(rl.check("10.0.0.0").allowed, true, "least recently seen entry was evicted");
  assert.equal(rl.check("10.0.3.231").allowed, false);
});
