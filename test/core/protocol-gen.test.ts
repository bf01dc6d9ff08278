/** Generated protocol artefacts are fresh, and validators behave like the reference's AJV setup. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { check, validator } from "../../src/shared/protocol/validate.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("generated validators, JSON Schema and types match the TypeBox sources (npm run protocol:gen)", async () => {
  const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/protocol-gen.ts", "--check"], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  assert.equal(result.code, 0, result.out);
  assert.match(result.out, /fresh/);
});

test("the frame path uses precompiled code: no Ajv compile at run time", async () => {
  const src = await readFile(new URL("../../src/shared/protocol/validate.ts", import.meta.url), "utf8");
  assert.ok(!/new Ajv|\.compile\(/.test(src));
  const gen = await readFile(new URL("../../src/shared/protocol/generated/validators.ts", import.meta.url), "utf8");
  assert.ok(!gen.includes("require("), "standalone ESM output must not contain require()");
});

test("validation errors are rendered in the reference's format", () => {
  const r = check("ConnectParams", { minProtocol: 3, maxProtocol: 3, client: { id: "cli", version: "1", platform: "x", mode: "cli", extra: 1 }, nope: 2 });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.match(r.details, /at root: unexpected property 'nope'/);
    assert.match(r.details, /at \/client: unexpected property 'extra'/);
  }
  const missing = check("RequestFrame", { type: "req" });
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.equal(missing.details, "must have required property 'id'; must have required property 'method'");
  assert.equal(validator("EventFrame")({ type: "event", event: "tick", payload: { ts: 1 }, seq: 3 }), true);
});
