import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";

import { ConfigWatcher, watchConfig } from "../../src/shared/config/config-watcher.js";
import type { ConfigChangeEvent, ConfigInvalidEvent } from "../../src/shared/config/config-watcher.js";
import { applyConfigDefaults } from "../../src/shared/config/defaults.js";
import { loadConfig } from "../../src/shared/config/load-config.js";
import { classifyConfigPath, decideReload, diffConfigPaths, planReload } from "../../src/shared/config/reload-plan.js";
import type { ReloadMode } from "../../src/shared/config/schema.js";
import { tempDir } from "../helpers/temp-dir.js";

test("classification follows the §8.4 table plus clawgate's hot gateway keys", () => {
  const rows: Array<[string, string, string[]]> = [
    ["gateway.remote.url", "none", []],
    ["gateway.reload.mode", "none", []],
    ["gateway.auth.token", "hot", ["apply-gateway-auth"]],
    ["gateway.auth.mode", "hot", ["apply-gateway-auth"]],
    ["gateway.policy.maxPayload", "hot", ["apply-gateway-policy"]],
    ["gateway.controlUi.allowedOrigins", "hot", ["apply-control-ui-origins"]],
    ["gateway.controlUi.basePath", "restart", []],
    ["gateway.port", "restart", []],
    ["gateway.bind", "restart", []],
    ["gateway.tls.enabled", "restart", []],
    ["canvasHost.port", "restart", []],
    ["plugins.entries", "restart", []],
    ["discovery.wideArea.enabled", "restart", []],
    ["hooks.gmail.account", "hot", ["restart-gmail-watcher", "reload-hooks"]],
    ["hooks.token", "hot", ["reload-hooks"]],
    ["agents.defaults.heartbeat.every", "hot", ["restart-heartbeat"]],
    ["agent.heartbeat", "hot", ["restart-heartbeat"]],
    ["agents.defaults.model", "none", []],
    ["cron.enabled", "hot", ["restart-cron"]],
    ["browser.enabled", "hot", ["restart-browser-control"]],
    ["web.enabled", "hot", ["restart-channel"]],
    ["channels.telegram.botToken", "hot", ["restart-channel"]],
    ["channels.whatsapp.allowFrom", "none", []],
    ["channels.defaults.groupPolicy", "restart", []],
    ["logging.level", "none", []],
    ["meta.lastTouchedAt", "none", []],
    ["session.scope", "none", []],
    ["somethingNew.key", "restart", []],
  ];
  for (const [p, kind, actions] of rows) {
    const c = classifyConfigPath(p);
    assert.equal(c.kind, kind, p);
    assert.deepEqual(c.actions.map((a) => a.type), actions, p);
  }
  assert.deepEqual(classifyConfigPath("channels.telegram.botToken").actions, [{ type: "restart-channel", channel: "telegram" }]);
  assert.deepEqual(classifyConfigPath("web.heartbeatSeconds").actions, [{ type: "restart-channel", channel: "whatsapp" }]);
  // Prefix matching is by dotted segment, not by string prefix.
  assert.equal(classifyConfigPath("gateway.authExtra").kind, "restart");
  assert.equal(classifyConfigPath("hooksX").kind, "restart");
});

test("diff: leaf paths, arrays as a whole, kind changes", () => {
  const prev = { gateway: { port: 1, auth: { token: "a" }, trustedProxies: ["x", "y"] }, hooks: { enabled: true } };
  const next = { gateway: { port: 1, auth: { token: "b" }, trustedProxies: ["x", "z"] }, logging: { level: "debug" }, hooks: true };
  assert.deepEqual(diffConfigPaths(prev, next).sort(), ["gateway.auth.token", "gateway.trustedProxies", "hooks", "logging"]);
  assert.deepEqual(diffConfigPaths(prev, structuredClone(prev)), []);
});

test("decisions per mode: hybrid, hot, restart, off", () => {
  const base = applyConfigDefaults({ gateway: { port: 18789, auth: { token: "old" } }, hooks: { token: "h1" } });
  const hotOnly = applyConfigDefaults({ gateway: { port: 18789, auth: { token: "new" } }, hooks: { token: "h2" } });
  const restartToo = applyConfigDefaults({ gateway: { port: 19999, auth: { token: "new" } }, hooks: { token: "h1" } });
  const noneOnly = applyConfigDefaults({ gateway: { port: 18789, auth: { token: "old" } }, hooks: { token: "h1" }, logging: { level: "debug" } });

  const hotPlan = planReload(base, hotOnly);
  assert.deepEqual(hotPlan.changedPaths.sort(), ["gateway.auth.token", "hooks.token"]);
  assert.equal(hotPlan.restartRequired, false);
  const mixed = planReload(base, restartToo);
  assert.deepEqual(mixed.restartPaths, ["gateway.port"]);
  const quiet = planReload(base, noneOnly);

  const expect = (mode: ReloadMode, plan: typeof hotPlan, action: string, actions: string[], skipped: string[] = []): void => {
    const d = decideReload(plan, mode);
    assert.equal(d.action, action, `${mode}: ${d.reason}`);
    assert.deepEqual(d.hotActions.map((a) => a.type), actions, mode);
    assert.deepEqual(d.skippedRestartPaths, skipped, mode);
  };
  expect("hybrid", hotPlan, "hot", ["apply-gateway-auth", "reload-hooks"]);
  expect("hybrid", mixed, "restart", []);
  expect("hybrid", quiet, "hot", []);
  expect("hot", hotPlan, "hot", ["apply-gateway-auth", "reload-hooks"]);
  expect("hot", mixed, "hot", ["apply-gateway-auth"], ["gateway.port"]);
  assert.match(decideReload(mixed, "hot").reason, /need a gateway restart and were not applied.*gateway\.port/);
  expect("restart", hotPlan, "restart", []);
  expect("restart", quiet, "restart", []);
  expect("off", mixed, "ignore", []);
  expect("hybrid", planReload(base, base), "noop", []);
  assert.equal(decideReload(hotPlan).mode, "hybrid", "hybrid is the default mode");
});

// ---------------------------------------------------------------------------------------
// Watcher

const EVENT_TIMEOUT_MS = 10_000;

function nextEvent<T>(w: ConfigWatcher, name: "change" | "invalid"): Promise<T> {
  return once(w, name, { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) }).then(([e]) => e as T);
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, initialText: string, debounceMs = 60) {
  const dir = tempDir(t, "clawgate-watch-");
  const file = path.join(dir, "clawdbot.json");
  await fs.writeFile(file, initialText);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true);
  const watcher = watchConfig({ path: file, initial: snap.config, env: {}, debounceMs });
  t.after(() => watcher.close());
  // The watcher's handles are unref'd by design (it never keeps a process alive); the
  // test keeps the loop alive itself while it waits for events.
  const keepAlive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(keepAlive));
  return { dir, file, watcher };
}

test("watcher: an in-place write is picked up, classified and decided", async (t) => {
  const { file, watcher } = await setup(t, `{ gateway: { auth: { token: "one-token" } } }`);
  const changed = nextEvent<ConfigChangeEvent>(watcher, "change");
  await fs.writeFile(file, `{ gateway: { auth: { token: "two-token" } } }`);
  const e = await changed;
  assert.equal(e.prev.gateway.auth?.token, "one-token");
  assert.equal(e.next.gateway.auth?.token, "two-token");
  assert.deepEqual(e.plan.changedPaths, ["gateway.auth.token"]);
  assert.equal(e.decision.action, "hot");
  assert.deepEqual(e.decision.hotActions, [{ type: "apply-gateway-auth" }]);
  assert.equal(watcher.current.gateway.auth?.token, "two-token");
});

test("watcher: an atomic rename replacement is picked up, and later in-place writes too", async (t) => {
  const { dir, file, watcher } = await setup(t, `{ gateway: { port: 18001 } }`);
  const first = nextEvent<ConfigChangeEvent>(watcher, "change");
  const tmp = path.join(dir, "clawdbot.json.123.tmp");
  await fs.writeFile(tmp, `{ gateway: { port: 18002, reload: { mode: "hot" } } }`);
  await fs.rename(tmp, file);
  const e = await first;
  assert.equal(e.next.gateway.port, 18002);
  assert.deepEqual(e.plan.restartPaths, ["gateway.port"]);
  assert.equal(e.decision.mode, "hot", "mode comes from the new config");
  assert.deepEqual(e.decision.skippedRestartPaths, ["gateway.port"]);

  const second = nextEvent<ConfigChangeEvent>(watcher, "change");
  const tmp2 = path.join(dir, "clawdbot.json.456.tmp");
  await fs.writeFile(tmp2, `{ gateway: { port: 18003 } }`);
  await fs.rename(tmp2, file);
  assert.equal((await second).next.gateway.port, 18003);

  const third = nextEvent<ConfigChangeEvent>(watcher, "change");
  await fs.appendFile(file, "\n// in place after renames\n");
  await fs.writeFile(file, `{ gateway: { port: 18004 } }`);
  assert.equal((await third).next.gateway.port, 18004);
});

test("watcher: a burst of writes is debounced into one reload", async (t) => {
  const { file, watcher } = await setup(t, `{ gateway: { port: 18100 } }`, 400);
  const changes: ConfigChangeEvent[] = [];
  watcher.on("change", (e) => changes.push(e));
  const first = nextEvent<ConfigChangeEvent>(watcher, "change");
  for (let i = 1; i <= 10; i++) await fs.writeFile(file, `{ gateway: { port: ${18100 + i} } }`);
  const e = await first;
  assert.equal(e.next.gateway.port, 18110, "the reload sees the last write of the burst");
  assert.equal(watcher.reloads, 1);
  // A later, distinct write proves no extra reload was queued by the burst.
  const marker = nextEvent<ConfigChangeEvent>(watcher, "change");
  await fs.writeFile(file, `{ gateway: { port: 18200 } }`);
  assert.equal((await marker).next.gateway.port, 18200);
  assert.equal(watcher.reloads, 2);
  assert.equal(changes.length, 2);
});

test("watcher: an invalid file emits `invalid` and keeps the last good config", async (t) => {
  const { dir, file, watcher } = await setup(t, `{ gateway: { port: 18300 } }`);
  const bad = nextEvent<ConfigInvalidEvent>(watcher, "invalid");
  await fs.writeFile(file, `{ gateway: { port: "nope" } }`);
  const e = await bad;
  assert.equal(e.path, file);
  assert.equal(e.issues[0]?.path, "gateway.port");
  assert.equal(watcher.current.gateway.port, 18300);

  const unparsable = nextEvent<ConfigInvalidEvent>(watcher, "invalid");
  await fs.writeFile(file, `{ gateway: `);
  assert.equal((await unparsable).issues[0]?.code, "GW_ERR_CONFIG_PARSE");
  assert.equal(watcher.current.gateway.port, 18300);

  const gone = nextEvent<ConfigInvalidEvent>(watcher, "invalid");
  await fs.rename(file, path.join(dir, "moved-away.json"));
  assert.match((await gone).issues[0]?.message ?? "", /missing; keeping the last good config/);
  assert.equal(watcher.current.gateway.port, 18300);

  const fixed = nextEvent<ConfigChangeEvent>(watcher, "change");
  await fs.writeFile(file, `{ gateway: { port: 18301 } }`);
  const f = await fixed;
  assert.equal(f.prev.gateway.port, 18300, "diffed against the last good config");
  assert.equal(f.next.gateway.port, 18301);
});

test("watcher: close() stops reloads and is idempotent", async (t) => {
  const { file, watcher } = await setup(t, `{ gateway: { port: 18400 } }`);
  watcher.close();
  watcher.close();
  await fs.writeFile(file, `{ gateway: { port: 18401 } }`);
  await watcher.reloadNow();
  assert.equal(watcher.reloads, 0);
  assert.equal(watcher.current.gateway.port, 18400);
});
