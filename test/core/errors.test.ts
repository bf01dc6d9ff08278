/** The error registry agrees with docs/errors.md, and error shapes are built correctly. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ERROR_REGISTRY, GatewayError, toErrorShape } from "../../src/shared/errors.js";
import { parseJson5 } from "../../src/shared/config/parse.js";
import { readJsonFile, writeJsonAtomic } from "../../src/shared/store/atomic-json.js";
import { wrapError } from "../../src/shared/ring/link-errors.js";
import { tempDir } from "../helpers/temp-dir.js";

test("every registry code is documented once with its protocol code, and the doc lists no unknown code", async () => {
  const doc = await readFile(new URL("../../docs/errors.md", import.meta.url), "utf8");
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

test("a wrapping GatewayError keeps the original as `cause`, which never reaches the wire", async (t) => {
  const root = new RangeError("disk on fire");
  const wrapped = new GatewayError("GW_ERR_STORE_WRITE_FAILED", "state write failed", { path: "/x" }, { cause: root });
  assert.equal(wrapped.cause, root);
  assert.deepEqual(wrapped.toWire(), { code: "GW_ERR_STORE_WRITE_FAILED", message: "state write failed", details: { path: "/x" } });
  assert.equal("cause" in toErrorShape(wrapped), false);
  assert.equal(new GatewayError("GW_ERR_RING_CLOSED", "closed").cause, undefined);

  // The places that wrap a lower-level failure pass it through.
  const handlerErr = new TypeError("bad input");
  assert.equal(wrapError("w", handlerErr).cause, handlerErr);

  const parseErr = (() => {
    try {
      parseJson5("{ a: ] }", "/cfg.json");
    } catch (err) {
      return err;
    }
    assert.fail("parseJson5 accepted invalid text");
  })();
  assert.ok(parseErr instanceof GatewayError);
  assert.equal(parseErr.code, "GW_ERR_CONFIG_PARSE");
  assert.ok(parseErr.cause instanceof SyntaxError, "JSON5's SyntaxError is kept");

  const dir = tempDir(t, "clawgate-errors-");
  const readErr = await readJsonFile(dir, { fallback: () => null }).then(
    () => assert.fail("reading a directory as JSON succeeded"),
    (err: unknown) => err,
  );
  assert.ok(readErr instanceof GatewayError);
  assert.equal(readErr.code, "GW_ERR_STORE_CORRUPT");
  assert.equal((readErr.cause as NodeJS.ErrnoException).code, "EISDIR");
  await writeFile(join(dir, "plain"), "");
  const writeErr = await writeJsonAtomic(join(dir, "plain", "x.json"), {}).then(
    () => assert.fail("writing below a regular file succeeded"),
    (err: unknown) => err,
  );
  assert.ok(writeErr instanceof GatewayError);
  assert.equal(writeErr.code, "GW_ERR_STORE_WRITE_FAILED");
  const errno = (writeErr.cause as NodeJS.ErrnoException).code;
  assert.ok(errno === "ENOTDIR" || errno === "EEXIST", `cause errno ${errno}`);
});
