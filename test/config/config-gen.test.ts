/**
 * The config validator is precompiled (`npm run config:gen`): fresh, equivalent to the
 * TypeBox schema, and a valid config is checked without loading TypeBox at all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Value } from "typebox/value";
import { ConfigSchema } from "../../src/shared/config/schema/index.js";
import { validateConfig } from "../../src/shared/config/generated/config-validator.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function run(args: string[], cwd = root): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test("generated config validator and JSON Schema match the TypeBox sections (npm run config:gen)", async () => {
  const r = await run(["--import", "tsx", "scripts/config-gen.ts", "--check"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /fresh/);
});

test("the precompiled check accepts and rejects exactly what the TypeBox schema does", () => {
  const cases: unknown[] = [
    {},
    { gateway: { port: 18789, bind: "lan", auth: { mode: "token", token: "x" } } },
    { gateway: { port: 0 } },
    { gateway: { port: 65536 } },
    { gateway: { port: 1.5 } },
    { gateway: { port: "18789" } },
    { gateway: { prot: 1 } },
    { gateway: { reload: { mode: "hot", debounceMs: 0 } } },
    { gateway: { reload: { mode: "warm" } } },
    { gateway: { http: { endpoints: { responses: { files: { pdf: { maxPages: 2 } } } } } } },
    { gateway: { http: { endpoints: { responses: { files: { pdf: { maxPages: 0 } } } } } } },
    { gateway: { trustedProxies: ["10.0.0.1", 2] } },
    { logging: { level: "debug", maxFileBytes: 1024, redactPatterns: ["a"] } },
    { logging: { level: "loud" } },
    { logging: { maxFiles: 101 } },
    { commands: { native: "auto", bashForegroundMs: 5 } },
    { commands: { native: "sometimes" } },
    { canvasHost: { enabled: false, port: 18793, root: "/tmp/c" } },
    { canvasHost: { colour: "red" } },
    { browser: { enabled: true, anything: { nested: 1 } } },
    { meta: { lastTouchedVersion: "1", extra: true } },
    { agents: { defaults: { model: "x" } }, channels: { telegram: { botToken: "t" } }, bindings: [1, "a"] },
    { agents: [] },
    { bindings: {} },
    { nope: 1 },
    [],
    null,
    "config",
  ];
  for (const value of cases) {
    assert.equal(validateConfig(value), Value.Check(ConfigSchema, value), JSON.stringify(value));
  }
});

test("a valid config is checked without loading TypeBox; an invalid one loads it to explain", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-config-gen-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A resolve hook (in Node's hooks thread) records every URL the child resolves.
  const log = join(dir, "resolved.log");
  const hooks = join(dir, "hooks.mjs");
  await writeFile(
    hooks,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}\n`,
  );
  const register = join(dir, "register.mjs");
  await writeFile(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const child = join(dir, "child.mjs");
  const loadConfigUrl = pathToFileURL(join(root, "src/shared/config/load-config.ts")).href;
  await writeFile(
    child,
    `import { readFileSync, writeFileSync } from "node:fs";
const { loadConfig } = await import(${JSON.stringify(loadConfigUrl)});
const file = process.argv[2];
const snap = await loadConfig({ path: file, env: {} });
const typebox = readFileSync(${JSON.stringify(log)}, "utf8").split("\\n").some((u) => u.includes("/node_modules/typebox/"));
console.log(JSON.stringify({ valid: snap.valid, issues: snap.issues.map((i) => i.path + ": " + i.message), typebox }));\n`,
  );
  const probe = async (config: string): Promise<{ valid: boolean; issues: string[]; typebox: boolean }> => {
    const file = join(dir, "clawdbot.json");
    await writeFile(file, config);
    await writeFile(log, "");
    const r = await run(["--import", "tsx", "--import", pathToFileURL(register).href, child, file]);
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out.trim().split("\n").at(-1) ?? "{}") as { valid: boolean; issues: string[]; typebox: boolean };
  };
  const good = await probe(`{ gateway: { port: 18789, reload: { mode: "hot" } }, logging: { level: "debug" }, agents: { x: 1 } }`);
  assert.deepEqual(good, { valid: true, issues: [], typebox: false });
  const bad = await probe(`{ gateway: { port: "abc" } }`);
  assert.equal(bad.valid, false);
  assert.equal(bad.typebox, true);
  assert.deepEqual(bad.issues, ['gateway.port: expected integer 1..65535, got "abc"']);
});
