/**
 * ModuleHost: dependency order, graph errors, listeners, health sections, reload
 * dispatch (each module sees exactly the actions of the types it registered for) and
 * start/stop order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import type { HotAction } from "../../src/shared/config/reload-plan.js";
import type { GatewayModule } from "../../src/main/module.js";
import { ModuleHost, orderModules } from "../../src/main/module-host.js";

type Conn = { id: string };
type M = GatewayModule<{ tag: string }, { table: string[] }, Conn>;
const silent = pino({ level: "silent" });

function host(): ModuleHost<{ tag: string }, { table: string[] }, Conn> {
  return new ModuleHost(silent);
}

test("modules are ordered after their dependencies, otherwise in declared order", () => {
  const mods = [
    { name: "agents", dependsOn: ["nodes", "sessions"] },
    { name: "nodes" },
    { name: "http" },
    { name: "sessions", dependsOn: ["nodes"] },
  ];
  assert.deepEqual(orderModules(mods).map((m) => m.name), ["nodes", "sessions", "agents", "http"]);
  assert.deepEqual(orderModules([{ name: "a" }, { name: "b" }, { name: "c" }]).map((m) => m.name), ["a", "b", "c"]);
});

test("unknown dependencies, cycles and duplicate names are refused with the names involved", () => {
  assert.throws(() => orderModules([{ name: "a", dependsOn: ["ghost"] }]), (e: Error & { code?: string }) => {
    assert.equal(e.code, "GW_ERR_MODULE_GRAPH");
    assert.match(e.message, /"a" depends on "ghost", which is not loaded/);
    return true;
  });
  assert.throws(
    () => orderModules([{ name: "a", dependsOn: ["b"] }, { name: "b", dependsOn: ["c"] }, { name: "c", dependsOn: ["a"] }]),
    /cycle: a -> b -> c -> a/,
  );
  assert.throws(() => orderModules([{ name: "a" }, { name: "a" }]), /duplicate gateway module "a"/);
});

test("register runs in dependency order and hands every module the same core and extra", async () => {
  const h = host();
  const seen: string[] = [];
  const mk = (name: string, dependsOn?: string[]): M => ({
    name,
    dependsOn,
    register(r) {
      r.extra.table.push(name);
      seen.push(`${name}:${r.core.tag}`);
    },
  });
  await h.register([mk("b", ["a"]), mk("a")], { tag: "core" }, { table: [] });
  assert.deepEqual(seen, ["a:core", "b:core"]);
  assert.deepEqual(h.names, ["a", "b"]);
});

test("connection listeners run in module order; one that throws does not stop the others", async () => {
  const h = host();
  const calls: string[] = [];
  await h.register([
    { name: "first", register: (r) => r.listen({ opened: (c) => calls.push(`first+${c.id}`), closed: (c) => calls.push(`first-${c.id}`) }) },
    {
      name: "broken",
      register: (r) =>
        r.listen({
          opened: () => {
            throw new Error("boom");
          },
        }),
    },
    { name: "last", register: (r) => r.listen({ opened: (c) => calls.push(`last+${c.id}`), closed: (c) => calls.push(`last-${c.id}`) }) },
  ], { tag: "core" }, { table: [] });
  h.opened({ id: "x" });
  h.closed({ id: "x" });
  assert.deepEqual(calls, ["first+x", "last+x", "first-x", "last-x"]);
});

test("health sections are read on demand; duplicates are refused; a failing read reports its error", async () => {
  const h = host();
  let n = 0;
  await h.register([
    { name: "nodes", register: (r) => r.healthSection("nodes", () => ({ connected: ++n })) },
    {
      name: "canvas",
      register: (r) =>
        r.healthSection("canvas", () => {
          throw new Error("worker gone");
        }),
    },
  ], { tag: "core" }, { table: [] });
  assert.deepEqual(h.healthSections(), { nodes: { connected: 1 }, canvas: { error: "Error: worker gone" } });
  assert.deepEqual(h.healthSections().nodes, { connected: 2 });
  const dup = host();
  await assert.rejects(
    dup.register([
        { name: "a", register: (r) => r.healthSection("s", () => 1) },
        { name: "b", register: (r) => r.healthSection("s", () => 2) },
      ], { tag: "core" }, { table: [] }),
    /health section "s" of module "b" is already contributed by "a"/,
  );
});

test("reload actions reach exactly the modules registered for their types", async () => {
  const h = host();
  const got: Record<string, HotAction[]> = { channels: [], hooks: [], auth: [] };
  await h.register([
    { name: "channels", register: (r) => r.onReload(["restart-channel"], (a) => void got.channels?.push(...a)) },
    { name: "hooks", register: (r) => r.onReload(["reload-hooks", "restart-gmail-watcher"], (a) => void got.hooks?.push(...a)) },
    { name: "auth", register: (r) => r.onReload(["apply-gateway-auth"], (a) => void got.auth?.push(...a)) },
  ], { tag: "core" }, { table: [] });
  const unhandled = await h.dispatchReload([
    { type: "restart-channel", channel: "telegram" },
    { type: "reload-hooks" },
    { type: "restart-channel", channel: "whatsapp" },
    { type: "restart-cron" },
  ]);
  assert.deepEqual(got.channels, [
    { type: "restart-channel", channel: "telegram" },
    { type: "restart-channel", channel: "whatsapp" },
  ]);
  assert.deepEqual(got.hooks, [{ type: "reload-hooks" }]);
  assert.deepEqual(got.auth, [], "a module whose types did not change is not called");
  assert.deepEqual(unhandled, ["restart-cron"]);
});

test("start runs in dependency order, stop in reverse; a failed start stops every registered module once", async () => {
  const calls: string[] = [];
  const mk = (name: string, dependsOn: string[] = [], failStart = false): M => ({
    name,
    dependsOn,
    register: () => ({
      start: async () => {
        if (failStart) throw new Error(`${name} cannot start`);
        calls.push(`start ${name}`);
      },
      stop: () => void calls.push(`stop ${name}`),
    }),
  });
  const ok = host();
  await ok.register([mk("c", ["b"]), mk("a"), mk("b", ["a"])], { tag: "core" }, { table: [] });
  await ok.start();
  await ok.stop();
  assert.deepEqual(calls, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);

  calls.length = 0;
  const bad = host();
  await bad.register([mk("a"), mk("b", ["a"], true), mk("c", ["b"])], { tag: "core" }, { table: [] });
  await assert.rejects(bad.start(), /b cannot start/);
  assert.deepEqual(calls, ["start a", "stop c", "stop b", "stop a"]);
  await bad.stop();
  assert.equal(calls.length, 4, "stop runs once");
});
