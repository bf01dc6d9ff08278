import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";

import { GatewayError } from "../../src/shared/errors.js";
import { loadConfig } from "../../src/shared/config/load-config.js";
import { writeConfigFile } from "../../src/shared/config/write-config.js";
import { tempDir } from "../helpers/temp-dir.js";

test("writeConfigFile: 0700 dir, 0600 file, 2-space JSON, meta stamped, hash matches config.get", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "state", "clawdbot.json");
  const now = new Date("2026-01-24T10:00:00.000Z");
  const res = await writeConfigFile(file, { gateway: { mode: "local", port: 19001 } }, { version: "2026.1.24", now: () => now, env: {} });
  assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  const raw = await fs.readFile(file, "utf8");
  assert.equal(raw, res.raw);
  assert.ok(raw.startsWith('{\n  "gateway": {\n    "mode": "local"'), raw);
  const snap = await loadConfig({ path: file, env: {} });
  assert.equal(snap.valid, true);
  assert.equal(snap.hash, res.hash);
  assert.deepEqual(snap.config.meta, { lastTouchedVersion: "2026.1.24", lastTouchedAt: "2026-01-24T10:00:00.000Z" });
  assert.deepEqual(
    (await fs.readdir(path.dirname(file))).filter((n) => n.endsWith(".tmp")),
    [],
    "no temp file left behind",
  );
});

test("writeConfigFile keeps 5 rotated backups (.bak, .bak.1 … .bak.4)", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "clawdbot.json");
  for (let i = 1; i <= 8; i++) {
    await writeConfigFile(file, { gateway: { port: 10000 + i } }, { version: "v", env: {} });
  }
  const port = async (f: string): Promise<number> => (JSON.parse(await fs.readFile(f, "utf8")) as { gateway: { port: number } }).gateway.port;
  assert.equal(await port(file), 10008);
  assert.equal(await port(`${file}.bak`), 10007);
  assert.equal(await port(`${file}.bak.1`), 10006);
  assert.equal(await port(`${file}.bak.4`), 10003);
  await assert.rejects(fs.access(`${file}.bak.5`));
  assert.equal((await fs.stat(`${file}.bak`)).mode & 0o777, 0o600);
});

test("writeConfigFile refuses an invalid config and leaves the file untouched", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "clawdbot.json");
  await writeConfigFile(file, { gateway: { port: 1234 } }, { version: "v", env: {} });
  const before = await fs.readFile(file, "utf8");
  await assert.rejects(
    writeConfigFile(file, { gateway: { port: "nope" } }, { version: "v", env: {} }),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, "GW_ERR_CONFIG_INVALID");
      assert.match(err.message, /gateway\.port: expected integer 1\.\.65535/);
      return true;
    },
  );
  assert.equal(await fs.readFile(file, "utf8"), before);
  await assert.rejects(fs.access(`${file}.bak.1`));
});

test("writeConfigFile keeps ${VAR} references verbatim but validates them resolved", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "clawdbot.json");
  await writeConfigFile(file, { gateway: { auth: { token: "${GW_TOKEN}" } } }, { version: "v", env: { GW_TOKEN: "abc" } });
  assert.match(await fs.readFile(file, "utf8"), /"token": "\$\{GW_TOKEN\}"/);
  await assert.rejects(
    writeConfigFile(file, { gateway: { auth: { token: "${MISSING_X}" } } }, { version: "v", env: {} }),
    /MISSING_X/,
  );
});
