/** The error registry agrees with docs/errors.md, and error shapes are built correctly. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ERROR_REGISTRY, GatewayError, toErrorShape } from "../src/shared/errors.js";

test("every registry code is documented once with its protocol code, and the doc lists no unknown code", async () => {
  const doc = await readFile(new URL("../docs/errors.md", import.meta.url), "utf8");
  const rows = [...doc.matchAll(/^\| `(GW_ERR_[A-Z0-9_]+)` \| ([A-Z_]+) \| (yes|no) \|/gm)].map((m) => ({ code: m[1]!, protocol: m[2]!, retryable: m[3] === "yes" }));
  const documented = rows.map((r) => r.code);
  assert.equal(new Set(documented).size, documented.length, "a code is documented twice");
  const registry = Object.keys(ERROR_REGISTRY);
  assert.deepEqual([...documented].sort(), [...registry].sort());
  for (const r of rows) {
    const info = ERROR_REGISTRY[r.code as keyof typeof ERROR_REGISTRY] as { protocol: string; retryable?: boolean };
    assert.equal(info.protocol, r.protocol, r.code);
    assert.equal(info.retryable === true, r.retryable, `${r.code} retryable`);
  }
  for (const code of registry) assert.match(code, /^GW_ERR_[A-Z]+_[A-Z0-9_]+$/);
});

test("error shapes: coded errors map to their protocol code; anything else is UNAVAILABLE '<Name>: <message>' ≤ 240 chars", () => {
  assert.deepEqual(toErrorShape(new GatewayError("GW_ERR_RING_OVERFLOW", "full", { n: 1 })), {
    code: "UNAVAILABLE",
    message: "full",
    details: { n: 1 },
    retryable: true,
  });
  assert.deepEqual(toErrorShape(new TypeError("boom")), { code: "UNAVAILABLE", message: "TypeError: boom" });
  assert.equal(toErrorShape(new Error("x".repeat(500))).message.length, 240);
  const wire = new GatewayError("GW_ERR_WORKER_TIMEOUT", "slow").toWire();
  assert.deepEqual(wire, { code: "GW_ERR_WORKER_TIMEOUT", message: "slow" });
  assert.equal(GatewayError.fromWire(wire).protocolCode, "UNAVAILABLE");
});
