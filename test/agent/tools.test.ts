import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTools, runTool, toolAllowed } from "../../src/workers/agent/tools/tool-registry.js";
import { workspaceRoot } from "../../src/workers/agent/tools/workspace-path.js";
import { TOOL_OUTPUT_MAX_BYTES } from "../../src/workers/agent/tools/tool-types.js";
import type { ToolContext } from "../../src/workers/agent/tools/tool-types.js";

async function setup(t: { after: (fn: () => void) => void }, exec = false) {
  const base = mkdtempSync(join(tmpdir(), "agent-tools-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const outside = join(base, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "TOP SECRET");
  const ws = join(base, "ws");
  const ctx: ToolContext = { root: await workspaceRoot(ws), signal: new AbortController().signal };
  const tools = buildTools({ tools: { exec: { enabled: exec } } });
  const call = (name: string, args: Record<string, unknown>, c: ToolContext = ctx) => runTool(tools, name, args, c);
  return { base, ws, outside, ctx, tools, call };
}

test("read / write / edit / ls work inside the workspace", async (t) => {
  const { ws, call } = await setup(t);
  assert.equal((await call("write", { path: "dir/a.txt", content: "one\ntwo\nthree\nfour" })).isError, false);
  assert.equal(readFileSync(join(ws, "dir/a.txt"), "utf8"), "one\ntwo\nthree\nfour");
  assert.equal((await call("read", { path: "dir/a.txt" })).text, "one\ntwo\nthree\nfour");
  const part = await call("read", { path: join(ws, "dir/a.txt"), offset: 2, limit: 2 });
  assert.equal(part.text, "two\nthree\n\n[showing lines 2-3 of 4; use offset=4 to continue]");
  assert.equal((await call("edit", { path: "dir/a.txt", oldText: "two", newText: "2" })).isError, false);
  assert.equal(readFileSync(join(ws, "dir/a.txt"), "utf8"), "one\n2\nthree\nfour");
  const missing = await call("edit", { path: "dir/a.txt", oldText: "zzz", newText: "" });
  assert.equal(missing.isError, true);
  assert.match(missing.text, /not found/);
  writeFileSync(join(ws, "dup.txt"), "x x");
  assert.match((await call("edit", { path: "dup.txt", oldText: "x", newText: "y" })).text, /more than once/);
  assert.equal((await call("ls", {})).text, "dir/\ndup.txt");
  assert.equal((await call("ls", { path: "dir" })).text, "a.txt");
  assert.match((await call("ls", { limit: 1 })).text, /^dir\/\n\n\[1 more entries/);
  assert.match((await call("read", { path: 42 })).text, /must be a string/);
  assert.match((await call("nope", {})).text, /not available/);
});

test("confinement: ../, absolute paths and symlinks cannot leave the workspace", async (t) => {
  const { ws, outside, call } = await setup(t);
  symlinkSync(outside, join(ws, "link-dir"));
  symlinkSync(join(outside, "secret.txt"), join(ws, "link-file"));
  symlinkSync(join(outside, "new.txt"), join(ws, "dangling"));
  const attempts: [string, Record<string, unknown>][] = [
    ["read", { path: "../outside/secret.txt" }],
    ["read", { path: join(outside, "secret.txt") }],
    ["read", { path: "/etc/passwd" }],
    ["read", { path: "link-dir/secret.txt" }],
    ["read", { path: "link-file" }],
    ["ls", { path: "link-dir" }],
    ["ls", { path: ".." }],
    ["write", { path: "link-dir/new.txt", content: "x" }],
    ["write", { path: "link-dir/sub/deeper/new.txt", content: "x" }],
    ["write", { path: "dangling", content: "x" }],
    ["write", { path: "a/../../escape.txt", content: "x" }],
    ["edit", { path: "link-file", oldText: "TOP", newText: "NOT" }],
    ["read", { path: "ok\0.txt" }],
  ];
  for (const [name, args] of attempts) {
    const r = await call(name, args);
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} was allowed: ${r.text}`);
    assert.doesNotMatch(r.text, /TOP SECRET/);
  }
  assert.equal(readFileSync(join(outside, "secret.txt"), "utf8"), "TOP SECRET");
  assert.equal(existsSync(join(outside, "new.txt")), false);
  assert.equal(existsSync(join(outside, "sub")), false);
  assert.equal(existsSync(join(outside, "..", "escape.txt")), false);
  // A symlink that stays inside the workspace is fine.
  writeFileSync(join(ws, "real.txt"), "inside");
  symlinkSync(join(ws, "real.txt"), join(ws, "inner-link"));
  assert.deepEqual(await call("read", { path: "inner-link" }), { text: "inside", isError: false });
});

test("exec exists only with tools.exec.enabled; runs in the workspace; timeout, output cap, abort", async (t) => {
  assert.equal(buildTools({}).some((x) => x.spec.name === "exec"), false);
  const { ctx, call } = await setup(t, true);
  const pwd = await call("exec", { command: "pwd; echo err >&2; exit 3" });
  assert.equal(pwd.isError, true);
  assert.match(pwd.text, new RegExp(`^${ctx.root}\nerr\n\n\\[exit code 3\\]$`));
  const started = Date.now();
  const slow = await call("exec", { command: "sleep 30", timeout: 1 });
  assert.ok(Date.now() - started < 10_000);
  assert.match(slow.text, /timed out after 1 s/);
  const big = await call("exec", { command: "head -c 300000 /dev/zero | tr '\\0' 'a'; echo END" });
  assert.ok(Buffer.byteLength(big.text) < TOOL_OUTPUT_MAX_BYTES + 200, `output not capped: ${big.text.length}`);
  assert.match(big.text, /^\[\d+ earlier bytes of output omitted\]/);
  assert.match(big.text, /END\n\n\[exit code 0\]$/);
  const ac = new AbortController();
  const pending = call("exec", { command: "sleep 30" }, { ...ctx, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  assert.match((await pending).text, /run aborted/);
});

test("tools.allow / tools.deny filter the offered tools (deny wins, * globs)", () => {
  const names = (cfg: Parameters<typeof buildTools>[0]) => buildTools(cfg).map((x) => x.spec.name);
  assert.deepEqual(names({}), ["read", "write", "edit", "ls"]);
  assert.deepEqual(names({ tools: { deny: ["write", "edit"] } }), ["read", "ls"]);
  assert.deepEqual(names({ tools: { allow: ["read", "l*"] } }), ["read", "ls"]);
  assert.deepEqual(names({ tools: { allow: ["*"], deny: ["exec"], exec: { enabled: true } } }), ["read", "write", "edit", "ls"]);
  assert.equal(toolAllowed({ tools: { allow: ["read"], deny: ["read"] } }, "read"), false);
});
