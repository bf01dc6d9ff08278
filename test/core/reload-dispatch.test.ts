/**
 * Reload dispatch through the real lifecycle: a config file change is planned, and each
 * module receives exactly the hot actions of the types it registered for — nothing for
 * keys it does not own. And docs/config.md's reload table stays equal to RELOAD_RULES.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GatewayProcess } from "../../src/main/lifecycle/gateway-process.js";
import type { GatewayModuleDef } from "../../src/main/gateway-module.js";
import { applyConfigDefaults } from "../../src/shared/config/defaults.js";
import { RELOAD_RULES, type HotAction } from "../../src/shared/config/reload-plan.js";
import { createGatewayLogger } from "../../src/shared/log/logger.js";
import { tempDir } from "../helpers/temp-dir.js";

const TOKEN = "reload-dispatch-token-0123456789";

function recorder(name: string, types: HotAction["type"][], seen: HotAction[][]): GatewayModuleDef {
  return { name, register: (r) => r.onReload(types, (actions) => void seen.push(actions)) };
}

test("a config change reaches each module as exactly the hot actions of its keys", async (t) => {
  const dir = tempDir(t, "clawgate-reload-dispatch-");
  const configPath = join(dir, "clawdbot.json");
  const base = { gateway: { mode: "local", auth: { token: TOKEN }, reload: { debounceMs: 20 } }, canvasHost: { enabled: false } };
  const write = async (cfg: unknown): Promise<void> => {
    await writeFile(`${configPath}.tmp`, JSON.stringify(cfg));
    await rename(`${configPath}.tmp`, configPath);
  };
  await write({ ...base, channels: { telegram: { botToken: "a" }, whatsapp: { x: 1 } }, hooks: { enabled: false } });
  const channels: HotAction[][] = [];
  const hooks: HotAction[][] = [];
  const cron: HotAction[][] = [];
  let applied!: () => void;
  const logger = await createGatewayLogger({ level: "silent", consoleLevel: "silent" });
  const proc = new GatewayProcess({
    flags: { port: "0" },
    // The recorder below stands in for the channels module (no real channel worker starts).
    env: { CLAWDBOT_SKIP_CHANNELS: "1" },
    paths: { configPath, stateDir: dir },
    config: applyConfigDefaults(JSON.parse(await readFile(configPath, "utf8"))),
    logger,
    modules: () => [
      recorder("channels", ["restart-channel"], channels),
      recorder("hooks-recorder", ["reload-hooks", "restart-gmail-watcher"], hooks),
      recorder("cron", ["restart-cron"], cron),
      {
        name: "probe",
        dependsOn: ["channels", "hooks-recorder", "cron"],
        register: (r) => r.onReload(["restart-channel", "reload-hooks", "restart-cron", "apply-gateway-auth"], () => applied()),
      },
    ],
  });
  t.after(async () => {
    await proc.stop("test");
    await logger.close();
  });
  await proc.start();

  const done = new Promise<void>((resolve, reject) => {
    applied = resolve;
    setTimeout(() => reject(new Error("no reload action was dispatched within 10 s")), 10_000).unref();
  });
  await write({ ...base, channels: { telegram: { botToken: "b" }, whatsapp: { x: 1 } }, hooks: { enabled: true, token: "hook-token-0123456789abcdef" } });
  await done;
  assert.deepEqual(channels, [[{ type: "restart-channel", channel: "telegram" }]], "only the telegram account changed");
  assert.deepEqual(hooks, [[{ type: "reload-hooks" }]]);
  assert.deepEqual(cron, [], "cron keys did not change");
});

test("docs/config.md's reload table lists every RELOAD_RULES prefix once, with its kind and hot actions", async () => {
  const doc = await readFile(new URL("../../docs/config.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("## Hot reload"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| prefix |")));
  const rows = new Map<string, { kind: string; actions: string[] }>();
  for (const line of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const [first, kind, actions] = line.split("|").slice(1, 4).map((c) => c.trim());
    // Backticked prefixes outside parentheses (the parentheses list examples, not rules).
    const prefixes = [...(first ?? "").replace(/\([^)]*\)/g, "").matchAll(/`([^`]+)`/g)].map((m) => (m[1] === "channels.<id>" ? "channels.*" : m[1]!));
    const types = [...(actions ?? "").matchAll(/`([a-z]+(?:-[a-z]+)+)`/g)].map((m) => m[1]!);
    for (const p of prefixes) {
      assert.ok(!rows.has(p), `${p} documented twice`);
      rows.set(p, { kind: kind ?? "", actions: types });
    }
  }
  for (const rule of RELOAD_RULES) {
    const row = rows.get(rule.prefix);
    assert.ok(row, `reload rule ${rule.prefix} is not in docs/config.md`);
    assert.equal(row.kind, rule.kind, `kind of ${rule.prefix}`);
    const expected = typeof rule.actions === "function" ? rule.actions(`${rule.prefix.replace("*", "x")}.y`) : (rule.actions ?? []);
    assert.deepEqual(row.actions, [...new Set(expected.map((a) => a.type))], `hot actions of ${rule.prefix}`);
    rows.delete(rule.prefix);
  }
  assert.deepEqual([...rows.keys()], [], "documented prefixes that are not rules");
});
