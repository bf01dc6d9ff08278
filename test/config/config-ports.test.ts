import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { GatewayError } from "../../src/shared/errors.js";
import {
  activeProfile,
  applyProfileEnv,
  expandHome,
  launchdLabel,
  resolveConfigPath,
  resolveProfileFlag,
  resolveStateDir,
  systemdUnitName,
  windowsTaskName,
} from "../../src/shared/config/paths.js";
import type { Env } from "../../src/shared/config/paths.js";
import {
  resolveBindHost,
  resolveBrowserControlPort,
  resolveCanvasHostPort,
  resolveGatewayPort,
  resolveGatewayPorts,
} from "../../src/shared/config/ports.js";
import type { ClawdbotConfig } from "../../src/shared/config/schema.js";

const HOME = "/home/tester";
const cfgPort = (port: number): ClawdbotConfig => ({ gateway: { port } });

test("port precedence: --port > CLAWDBOT_GATEWAY_PORT > gateway.port > 18789 (full table)", () => {
  const rows: Array<{ flag?: string; env?: string; config?: number; port: number; source: string }> = [
    { flag: "1001", env: "2002", config: 3003, port: 1001, source: "flag" },
    { flag: "1001", env: "2002", port: 1001, source: "flag" },
    { flag: "1001", config: 3003, port: 1001, source: "flag" },
    { flag: "1001", port: 1001, source: "flag" },
    { env: "2002", config: 3003, port: 2002, source: "env" },
    { env: "2002", port: 2002, source: "env" },
    { config: 3003, port: 3003, source: "config" },
    { port: 18789, source: "default" },
    { flag: "", env: " ", config: 3003, port: 3003, source: "config" },
  ];
  for (const row of rows) {
    const env: Env = row.env === undefined ? {} : { CLAWDBOT_GATEWAY_PORT: row.env };
    const config = row.config === undefined ? {} : cfgPort(row.config);
    const got = resolveGatewayPort({ flag: row.flag, env, config });
    assert.deepEqual(got, { port: row.port, source: row.source }, JSON.stringify(row));
  }
  assert.deepEqual(resolveGatewayPort({ flag: 4321, env: {} }), { port: 4321, source: "flag" });
  assert.deepEqual(resolveGatewayPort({ flag: "0", env: {} }), { port: 0, source: "flag" }, "--port 0 = any free port");
});

test("invalid port values are clear errors, never skipped", () => {
  const cases: Array<[Parameters<typeof resolveGatewayPort>[0], RegExp]> = [
    [{ flag: "abc", env: {} }, /invalid --port "abc": expected an integer 0\.\.65535/],
    [{ flag: "70000", env: {} }, /invalid --port "70000"/],
    [{ flag: "-1", env: {} }, /invalid --port "-1"/],
    [{ flag: "12.5", env: {} }, /invalid --port "12\.5"/],
    [{ env: { CLAWDBOT_GATEWAY_PORT: "eighty" }, config: cfgPort(3003) }, /invalid CLAWDBOT_GATEWAY_PORT "eighty"/],
  ];
  for (const [inputs, re] of cases) {
    assert.throws(() => resolveGatewayPort(inputs), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, "GW_ERR_CONFIG_INVALID");
      assert.match(err.message, re);
      return true;
    });
  }
});

test("derived ports: browser control = base + 2, canvas = base + 4, unless set", () => {
  const p = resolveGatewayPorts({ env: {} });
  assert.deepEqual(p.gateway, { port: 18789, source: "default" });
  assert.deepEqual(p.browserControl, { port: 18791, source: "derived" });
  assert.deepEqual(p.canvasHost, { port: 18793, source: "derived" });

  const viaFlag = resolveGatewayPorts({ flag: "20000", env: { CLAWDBOT_GATEWAY_PORT: "19000" } });
  assert.equal(viaFlag.browserControl.port, 20002);
  assert.equal(viaFlag.canvasHost.port, 20004);

  const config: ClawdbotConfig = { gateway: { port: 18000 }, canvasHost: { port: 18100 }, browser: { controlUrl: "http://127.0.0.1:18200" } };
  assert.deepEqual(resolveCanvasHostPort(18000, { env: {}, config }), { port: 18100, source: "config" });
  assert.deepEqual(resolveBrowserControlPort(18000, { env: {}, config }), { port: 18200, source: "config" });
  const env = { CLAWDBOT_CANVAS_HOST_PORT: "18300", CLAWDBOT_BROWSER_CONTROL_URL: "http://127.0.0.1:18400/" };
  assert.deepEqual(resolveCanvasHostPort(18000, { env, config }), { port: 18300, source: "env" });
  assert.deepEqual(resolveBrowserControlPort(18000, { env, config }), { port: 18400, source: "env" });

  assert.deepEqual(resolveGatewayPorts({ flag: 0, env: {} }).canvasHost, { port: 0, source: "derived" });
  assert.throws(() => resolveCanvasHostPort(65533, { env: {} }), /above 65535.*canvasHost\.port/);
  assert.throws(() => resolveCanvasHostPort(18000, { env: { CLAWDBOT_CANVAS_HOST_PORT: "x" } }), /CLAWDBOT_CANVAS_HOST_PORT/);
  assert.throws(() => resolveBrowserControlPort(18000, { env: {}, config: { browser: { controlUrl: "not a url" } } }), /browser\.controlUrl/);
});

test("bind modes map to hosts; --bind overrides gateway.bind; custom needs an IPv4", () => {
  assert.deepEqual(resolveBindHost({}), { mode: "loopback", host: "127.0.0.1", source: "default" });
  const expected: Record<string, string> = { loopback: "127.0.0.1", lan: "0.0.0.0", auto: "127.0.0.1", tailnet: "127.0.0.1" };
  for (const [mode, host] of Object.entries(expected)) {
    assert.deepEqual(resolveBindHost({ flag: mode }), { mode, host, source: "flag" });
  }
  assert.deepEqual(resolveBindHost({ config: { gateway: { bind: "lan" } } }), { mode: "lan", host: "0.0.0.0", source: "config" });
  assert.deepEqual(resolveBindHost({ flag: "loopback", config: { gateway: { bind: "lan" } } }).host, "127.0.0.1");
  assert.deepEqual(resolveBindHost({ config: { gateway: { bind: "custom", customBindHost: "192.168.1.10" } } }), {
    mode: "custom",
    host: "192.168.1.10",
    source: "config",
  });
  assert.throws(() => resolveBindHost({ config: { gateway: { bind: "custom" } } }), /customBindHost is not set/);
  assert.throws(() => resolveBindHost({ config: { gateway: { bind: "custom", customBindHost: "example.com" } } }), /not an IPv4/);
  assert.throws(() => resolveBindHost({ flag: "everywhere" }), /invalid --bind "everywhere": expected one of loopback, lan, tailnet, auto, custom/);
});

test("state dir and config path: env overrides, ~ expansion, defaults", () => {
  assert.equal(resolveStateDir({}, HOME), path.join(HOME, ".clawdbot"));
  assert.equal(resolveConfigPath({}, HOME), path.join(HOME, ".clawdbot", "clawdbot.json"));
  assert.equal(resolveStateDir({ CLAWDBOT_STATE_DIR: "~/.clawdbot-a" }, HOME), path.join(HOME, ".clawdbot-a"));
  assert.equal(resolveConfigPath({ CLAWDBOT_STATE_DIR: "~/.clawdbot-a" }, HOME), path.join(HOME, ".clawdbot-a", "clawdbot.json"));
  assert.equal(resolveConfigPath({ CLAWDBOT_STATE_DIR: "~/s", CLAWDBOT_CONFIG_PATH: "~/.clawdbot/a.json" }, HOME), path.join(HOME, ".clawdbot", "a.json"));
  assert.equal(expandHome("~", HOME), HOME);
  assert.equal(expandHome("/abs/x", HOME), "/abs/x");
});

test("profiles fill only unset env; dev also sets the port to 19001", () => {
  const dev: Env = {};
  const r = applyProfileEnv("dev", dev, HOME);
  assert.deepEqual(dev, {
    CLAWDBOT_PROFILE: "dev",
    CLAWDBOT_STATE_DIR: path.join(HOME, ".clawdbot-dev"),
    CLAWDBOT_CONFIG_PATH: path.join(HOME, ".clawdbot-dev", "clawdbot.json"),
    CLAWDBOT_GATEWAY_PORT: "19001",
  });
  assert.deepEqual(r.applied.sort(), ["CLAWDBOT_CONFIG_PATH", "CLAWDBOT_GATEWAY_PORT", "CLAWDBOT_PROFILE", "CLAWDBOT_STATE_DIR"]);
  // The runbook's dev numbers: 19001, browser 19003, canvas 19005.
  const ports = resolveGatewayPorts({ env: dev, config: cfgPort(3003) });
  assert.deepEqual([ports.gateway.port, ports.gateway.source, ports.browserControl.port, ports.canvasHost.port], [19001, "env", 19003, 19005]);
  assert.equal(resolveGatewayPort({ flag: "19500", env: dev }).port, 19500, "--port still wins over the dev profile");

  const preset: Env = { CLAWDBOT_STATE_DIR: "/srv/bot", CLAWDBOT_GATEWAY_PORT: "20000" };
  applyProfileEnv("dev", preset, HOME);
  assert.equal(preset.CLAWDBOT_STATE_DIR, "/srv/bot");
  assert.equal(preset.CLAWDBOT_CONFIG_PATH, path.join("/srv/bot", "clawdbot.json"), "config path follows the preset state dir");
  assert.equal(preset.CLAWDBOT_GATEWAY_PORT, "20000");

  const work: Env = {};
  applyProfileEnv("rescue_2", work, HOME);
  assert.equal(work.CLAWDBOT_STATE_DIR, path.join(HOME, ".clawdbot-rescue_2"));
  assert.equal(work.CLAWDBOT_GATEWAY_PORT, undefined);
  assert.equal(activeProfile(work), "rescue_2");

  const def: Env = {};
  applyProfileEnv("default", def, HOME);
  assert.equal(def.CLAWDBOT_STATE_DIR, path.join(HOME, ".clawdbot"));
  assert.equal(activeProfile(def), undefined);

  assert.throws(() => applyProfileEnv("bad name!", {}, HOME), /invalid profile name "bad name!"/);
  assert.equal(resolveProfileFlag({ dev: true }), "dev");
  assert.equal(resolveProfileFlag({ profile: "main" }), "main");
  assert.equal(resolveProfileFlag({}), undefined);
  assert.throws(() => resolveProfileFlag({ dev: true, profile: "main" }), /either --dev or --profile/);
  assert.throws(() => resolveProfileFlag({ profile: "../x" }), /invalid profile name/);
});

test("service names per profile", () => {
  assert.equal(systemdUnitName(), "clawdbot-gateway.service");
  assert.equal(systemdUnitName("default"), "clawdbot-gateway.service");
  assert.equal(systemdUnitName("rescue"), "clawdbot-gateway-rescue.service");
  assert.equal(launchdLabel(), "com.clawdbot.gateway");
  assert.equal(launchdLabel("dev"), "com.clawdbot.dev");
  assert.equal(windowsTaskName(), "Clawdbot Gateway");
  assert.equal(windowsTaskName("dev"), "Clawdbot Gateway (dev)");
});
