import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

import { GatewayError } from "../../src/shared/errors.js";
import { assertValidConfig, loadConfig } from "../../src/shared/config/load-config.js";
import type { ConfigSnapshot } from "../../src/shared/config/load-config.js";
import { MAX_INCLUDE_DEPTH } from "../../src/shared/config/include.js";
import { tempDir } from "../helpers/temp-dir.js";

async function write(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}

function issueAt(snap: ConfigSnapshot, p: string): string {
  const found = snap.issues.find((i) => i.path === p);
  assert.ok(found, `expected an issue at ${p}, got ${JSON.stringify(snap.issues)}`);
  return found.message;
}

test("JSON5 file: comments, trailing commas, unquoted keys; hash is sha256 of the raw text", async (t) => {
  const dir = await tempDir(t);
  const raw = `// clawdbot config
{
  gateway: { mode: 'local', port: 19123, auth: { token: "abc", }, },
  logging: { level: "debug" }, /* trailing */
}
`;
  const file = await write(dir, "clawdbot.json", raw);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true, JSON.stringify(snap.issues));
  assert.equal(snap.exists, true);
  assert.equal(snap.path, file);
  assert.equal(snap.raw, raw);
  assert.equal(snap.hash, createHash("sha256").update(raw).digest("hex"));
  assert.equal(snap.config.gateway.port, 19123);
  assert.equal(snap.config.gateway.mode, "local");
  assert.equal(snap.config.gateway.auth?.token, "abc");
  assert.equal(snap.config.logging.level, "debug");
});

test("missing file: exists=false, valid, defaults of {}, hash of the empty string", async (t) => {
  const dir = await tempDir(t);
  const snap = await loadConfig({ path: path.join(dir, "nope.json"), env: {} });
  assert.equal(snap.exists, false);
  assert.equal(snap.valid, true);
  assert.equal(snap.raw, null);
  assert.equal(snap.hash, createHash("sha256").update("").digest("hex"));
  assert.equal(snap.config.gateway.reload.mode, "hybrid");
  assert.equal(snap.config.gateway.port, undefined);
});

test("default path comes from CLAWDBOT_CONFIG_PATH / CLAWDBOT_STATE_DIR", async (t) => {
  const dir = await tempDir(t);
  await write(dir, "state/clawdbot.json", `{gateway:{port:1234}}`);
  const viaState = await loadConfig({ env: { CLAWDBOT_STATE_DIR: path.join(dir, "state") } });
  assert.equal(viaState.path, path.join(dir, "state", "clawdbot.json"));
  assert.equal(viaState.config.gateway.port, 1234);
  const other = await write(dir, "other.json5", `{gateway:{port:4321}}`);
  const viaPath = await loadConfig({ env: { CLAWDBOT_STATE_DIR: path.join(dir, "state"), CLAWDBOT_CONFIG_PATH: other } });
  assert.equal(viaPath.config.gateway.port, 4321);
});

test("parse errors name the file, line and column", async (t) => {
  const dir = await tempDir(t);
  const file = await write(dir, "clawdbot.json", `{\n  gateway: {\n    port: ]\n  }\n}\n`);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, false);
  assert.equal(snap.issues[0]?.code, "GW_ERR_CONFIG_PARSE");
  assert.match(snap.issues[0]?.message ?? "", /line 3, column 11/);
  assert.ok(snap.issues[0]?.message.includes(file));
  assert.equal(snap.config.gateway.port, undefined, "invalid file yields the defaults of {}");
  assert.throws(() => assertValidConfig(snap), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "GW_ERR_CONFIG_PARSE");
    assert.match(err.message, /Invalid config at .*clawdbot\.json/);
    return true;
  });
});

test("a top-level value that is not an object is rejected", async (t) => {
  const dir = await tempDir(t);
  const file = await write(dir, "clawdbot.json", `[1, 2]`);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, false);
  assert.match(issueAt(snap, ""), /must contain a JSON5 object/);
});

test("$include: single file, array, nested relative paths, sibling override, deep merge", async (t) => {
  const dir = await tempDir(t);
  await write(dir, "parts/base.json5", `{ gateway: { port: 18000, bind: "lan", trustedProxies: ["10.0.0.1"] }, $include: "nested/auth.json5" }`);
  await write(dir, "parts/nested/auth.json5", `{ gateway: { auth: { mode: "token", token: "from-nested" } } }`);
  await write(dir, "parts/logging.json5", `{ level: "warn", maxFiles: 2 }`);
  await write(dir, "parts/extra.json5", `{ gateway: { bind: "loopback", controlUi: { basePath: "/ui" } } }`);
  const file = await write(
    dir,
    "clawdbot.json",
    `{
      $include: ["./parts/base.json5", "parts/extra.json5"],
      gateway: { port: 18500, trustedProxies: ["10.0.0.2"] },
      logging: { $include: "parts/logging.json5", maxFiles: 7 },
    }`,
  );
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true, JSON.stringify(snap.issues));
  const g = snap.config.gateway;
  assert.equal(g.port, 18500, "sibling key overrides the included value");
  assert.equal(g.bind, "loopback", "later include overrides earlier include");
  assert.equal(g.auth?.token, "from-nested", "nested include resolved relative to the including file");
  assert.equal(g.controlUi.basePath, "/ui");
  assert.deepEqual(g.trustedProxies, ["10.0.0.1", "10.0.0.2"], "arrays concatenate");
  assert.equal(snap.config.logging.level, "warn", "$include works in nested objects");
  assert.equal(snap.config.logging.maxFiles, 7);
  assert.equal(snap.includes.length, 4);
  assert.ok(!JSON.stringify(snap.config).includes("$include"));
});

test("$include cycles are rejected", async (t) => {
  const dir = await tempDir(t);
  await write(dir, "a.json5", `{ $include: "b.json5", gateway: { port: 1000 } }`);
  await write(dir, "b.json5", `{ $include: "a.json5" }`);
  const file = await write(dir, "clawdbot.json", `{ $include: "a.json5" }`);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, false);
  assert.equal(snap.issues[0]?.code, "GW_ERR_CONFIG_INCLUDE");
  assert.match(snap.issues[0]?.message ?? "", /circular \$include: clawdbot\.json -> a\.json5 -> b\.json5 -> a\.json5/);

  const self = await write(dir, "self.json", `{ $include: "self.json" }`);
  const selfSnap = await loadConfig({ path: self, env: {} });
  assert.match(selfSnap.issues[0]?.message ?? "", /circular/);
});

test("$include depth: 10 levels load, 11 are rejected; a missing include names the file", async (t) => {
  const dir = await tempDir(t);
  const chain = async (levels: number, prefix: string): Promise<string> => {
    for (let i = 1; i <= levels; i++) {
      const body = i < levels ? `{ $include: "${prefix}${i + 1}.json5" }` : `{ gateway: { port: 2000 } }`;
      await write(dir, `${prefix}${i}.json5`, body);
    }
    return write(dir, `${prefix}root.json`, `{ $include: "${prefix}1.json5" }`);
  };
  const ok = await loadConfig({ path: await chain(MAX_INCLUDE_DEPTH, "ok"), env: {} });
  assert.equal(ok.valid, true, JSON.stringify(ok.issues));
  assert.equal(ok.config.gateway.port, 2000);
  const deep = await loadConfig({ path: await chain(MAX_INCLUDE_DEPTH + 1, "deep"), env: {} });
  assert.equal(deep.valid, false);
  assert.equal(deep.issues[0]?.code, "GW_ERR_CONFIG_INCLUDE");
  assert.match(deep.issues[0]?.message ?? "", /deeper than 10 levels/);

  const missing = await write(dir, "missing.json", `{ gateway: { $include: "nowhere.json5" } }`);
  const m = await loadConfig({ path: missing, env: {} });
  assert.equal(m.issues[0]?.path, "gateway");
  assert.match(m.issues[0]?.message ?? "", /nowhere\.json5 \(ENOENT\)/);
});

test("${VAR} substitution in every string, $${VAR} escape, lower-case left alone", async (t) => {
  const dir = await tempDir(t);
  const file = await write(
    dir,
    "clawdbot.json",
    `{
      gateway: {
        auth: { token: "\${GW_TOKEN}" },
        remote: { url: "wss://\${REMOTE_HOST}:443/path", password: "$\${GW_TOKEN}" },
        trustedProxies: ["\${PROXY_A}", "10.0.0.9"],
        controlUi: { basePath: "\${lower_case}" },
      },
      agents: { list: [{ id: "x", workspace: "\${HOME_DIR}/clawd" }] },
    }`,
  );
  const env = { GW_TOKEN: "tok-123", REMOTE_HOST: "gw.example", PROXY_A: "10.0.0.1", HOME_DIR: "/home/u" };
  const snap = await loadConfig({ path: file, env });
  assert.equal(snap.valid, true, JSON.stringify(snap.issues));
  const g = snap.config.gateway;
  assert.equal(g.auth?.token, "tok-123");
  assert.equal(g.remote?.url, "wss://gw.example:443/path");
  assert.equal(g.remote?.password, "${GW_TOKEN}", "$${VAR} yields the literal ${VAR}");
  assert.deepEqual(g.trustedProxies, ["10.0.0.1", "10.0.0.9"]);
  assert.equal(g.controlUi.basePath, "${lower_case}");
  assert.deepEqual(snap.config.agents, { list: [{ id: "x", workspace: "/home/u/clawd" }] });
});

test("a missing or empty variable is an error naming the variable and the path", async (t) => {
  const dir = await tempDir(t);
  const file = await write(dir, "clawdbot.json", `{ gateway: { auth: { token: "\${NOPE_TOKEN}" }, trustedProxies: ["\${EMPTY}"] } }`);
  const snap = await loadConfig({ path: file, env: { EMPTY: "" } });
  assert.equal(snap.valid, false);
  assert.equal(snap.issues.length, 2);
  for (const i of snap.issues) assert.equal(i.code, "GW_ERR_CONFIG_ENV_MISSING");
  assert.match(issueAt(snap, "gateway.auth.token"), /NOPE_TOKEN/);
  assert.match(issueAt(snap, "gateway.trustedProxies.0"), /EMPTY/);
  assert.throws(() => assertValidConfig(snap), (err: unknown) => err instanceof GatewayError && err.code === "GW_ERR_CONFIG_ENV_MISSING");
});

test("schema errors name the path and what was expected", async (t) => {
  const dir = await tempDir(t);
  const file = await write(
    dir,
    "clawdbot.json",
    `{
      gateway: { port: "abc", bind: "everywhere", reload: { mode: "sometimes", debounceMs: -5 }, auth: { allowTailscale: "yes" }, trustedProxies: [42] },
      canvasHost: { port: 70000 },
      logging: { consoleStyle: "fancy" },
      commands: { restart: "true" },
    }`,
  );
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, false);
  assert.equal(issueAt(snap, "gateway.port"), `expected integer 1..65535, got "abc"`);
  assert.equal(issueAt(snap, "gateway.bind"), `expected one of "loopback", "lan", "tailnet", "auto", "custom", got "everywhere"`);
  assert.equal(issueAt(snap, "gateway.reload.mode"), `expected one of "off", "restart", "hot", "hybrid", got "sometimes"`);
  assert.equal(issueAt(snap, "gateway.reload.debounceMs"), "expected integer 0..600000, got -5");
  assert.equal(issueAt(snap, "gateway.auth.allowTailscale"), `expected boolean, got "yes"`);
  assert.equal(issueAt(snap, "gateway.trustedProxies.0"), "expected string, got 42");
  assert.equal(issueAt(snap, "canvasHost.port"), "expected integer 1..65535, got 70000");
  assert.match(issueAt(snap, "logging.consoleStyle"), /expected one of "pretty", "compact", "json"/);
  assert.equal(issueAt(snap, "commands.restart"), `expected boolean, got "true"`);
  for (const i of snap.issues) assert.equal(i.code, "GW_ERR_CONFIG_INVALID");
  assert.throws(() => assertValidConfig(snap), /gateway\.port: expected integer 1\.\.65535, got "abc"/);
});

test("closed objects reject unknown keys; loose sections accept anything", async (t) => {
  const dir = await tempDir(t);
  const file = await write(
    dir,
    "clawdbot.json",
    `{
      gateway: { prot: 1, auth: { tokn: "x" } },
      canvasHost: { enable: true },
      logging: { lvl: "info" },
      commands: { reboot: true },
      gatway: {},
      agents: { defaults: { anything: [1, { deep: true }] } },
      channels: { telegram: { botToken: "x", whatever: 1 } },
    }`,
  );
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, false);
  const paths = snap.issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ["canvasHost.enable", "commands.reboot", "gateway.auth.tokn", "gateway.prot", "gatway", "logging.lvl"]);
  assert.match(issueAt(snap, "gateway.prot"), /unknown key "prot" \(allowed: port, mode, bind/);
  assert.match(issueAt(snap, "gatway"), /unknown key "gatway"/);
});

test("defaults are applied under user values; unset port/bind stay unset", async (t) => {
  const dir = await tempDir(t);
  const file = await write(
    dir,
    "clawdbot.json",
    `{ gateway: { reload: { debounceMs: 50 }, policy: { tickIntervalMs: 1000 }, controlUi: { allowedOrigins: ["https://a.example"] } }, logging: { file: "/tmp/x.log" } }`,
  );
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true, JSON.stringify(snap.issues));
  const c = snap.config;
  assert.deepEqual(c.gateway.reload, { mode: "hybrid", debounceMs: 50 });
  assert.deepEqual(c.gateway.policy, { maxPayload: 524288, maxBufferedBytes: 1572864, tickIntervalMs: 1000 });
  assert.deepEqual(c.gateway.preAuth, { maxPerIp: 1024, maxTotal: 4096, handshakeTimeoutMs: 10_000 });
  assert.deepEqual(c.gateway.presence, { maxEntries: 200 });
  assert.deepEqual(c.gateway.controlUi, { enabled: true, basePath: "", allowInsecureAuth: false, allowedOrigins: ["https://a.example"] });
  assert.deepEqual(c.gateway.trustedProxies, []);
  assert.equal(c.canvasHost.enabled, true);
  assert.equal(c.logging.level, "info");
  assert.equal(c.logging.file, "/tmp/x.log");
  assert.equal(c.logging.maxFiles, 5);
  assert.equal(c.commands.restart, false);
  assert.equal(c.gateway.port, undefined);
  assert.equal(c.gateway.bind, undefined);
  assert.equal(c.gateway.auth, undefined);
});

test("gateway.token is accepted but reported as ignored", async (t) => {
  const dir = await tempDir(t);
  const file = await write(dir, "clawdbot.json", `{ gateway: { token: "legacy" } }`);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true);
  assert.equal(snap.warnings[0]?.path, "gateway.token");
  assert.match(snap.warnings[0]?.message ?? "", /gateway\.auth\.token/);
});
