import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { createGatewayLogger } from "../../src/shared/log/logger.js";
import { readLogTail, resolveLogTailFile } from "../../src/shared/log/log-tail.js";
import { localDateStamp, rollingLogPath } from "../../src/shared/log/log-paths.js";
import { RollingFileDestination } from "../../src/shared/log/rolling-file.js";
import { collectConfigSecrets } from "../../src/shared/log/secrets.js";
import { tempDir } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function collector(): { write(s: string): void; text: () => string } {
  const chunks: string[] = [];
  return { write: (s: string) => void chunks.push(s), text: () => chunks.join("") };
}

test("rolling file: rotation by size keeps N files, each within the limit, lines in order", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "gw.log");
  const dest = new RollingFileDestination({ file, maxFileBytes: 1000, maxFiles: 3 });
  const line = (i: number): string => `${JSON.stringify({ i, pad: "x".repeat(80) })}\n`;
  for (let i = 0; i < 100; i++) dest.write(line(i));
  await dest.close();

  const names = (await fs.readdir(dir)).sort();
  assert.deepEqual(names, ["gw.log", "gw.log.1", "gw.log.2", "gw.log.3"]);
  const ordered = [`${file}.3`, `${file}.2`, `${file}.1`, file];
  const seen: number[] = [];
  for (const f of ordered) {
    const text = await fs.readFile(f, "utf8");
    assert.ok(Buffer.byteLength(text) <= 1000, `${f} is ${Buffer.byteLength(text)} bytes`);
    for (const l of text.split("\n").filter(Boolean)) seen.push((JSON.parse(l) as { i: number }).i);
  }
  assert.equal(seen.at(-1), 99, "the live file ends with the last line");
  for (let k = 1; k < seen.length; k++) assert.equal(seen[k], (seen[k - 1] as number) + 1, "no line lost or reordered across files");
  assert.ok(seen.length >= 30 && seen.length < 100, "older files were dropped");
});

test("rolling file: a new local day switches to a new dated file; old dated files are pruned", async (t) => {
  const dir = await tempDir(t);
  const day1 = new Date(2026, 0, 24, 23, 59, 0).getTime();
  const day2 = new Date(2026, 0, 25, 0, 0, 5).getTime();
  let clock = day1;
  const stale = path.join(dir, "clawdbot-2026-01-20.log");
  await fs.writeFile(stale, "old\n");
  const staleTime = new Date(day1 - 3 * 24 * 3600 * 1000);
  await fs.utimes(stale, staleTime, staleTime);

  const dest = new RollingFileDestination({ dir, now: () => clock });
  assert.equal(dest.file, path.join(dir, "clawdbot-2026-01-24.log"));
  dest.write("a\n");
  await dest.flush();
  clock = day2;
  dest.write("b\n");
  dest.write("c\n");
  await dest.close();
  assert.equal(dest.file, path.join(dir, "clawdbot-2026-01-25.log"));
  assert.equal(await fs.readFile(path.join(dir, "clawdbot-2026-01-24.log"), "utf8"), "a\n");
  assert.equal(await fs.readFile(path.join(dir, "clawdbot-2026-01-25.log"), "utf8"), "b\nc\n");
  await assert.rejects(fs.access(stale), "files older than 24h are pruned");
  assert.equal(rollingLogPath(day2, dir), dest.file);
  assert.equal(localDateStamp(day1), "2026-01-24");
});

test("redaction: a token in many shapes never reaches the file or the console", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "gw.log");
  const token = "tok_3f9a1c7e5b2d4a6c8e0f";
  const rotated = "tok_rotated_9988776655";
  const unknownDeep = "pw-unknown-deep-secret-42";
  const out = collector();
  const log = await createGatewayLogger({
    file,
    level: "debug",
    consoleLevel: "debug",
    consoleStyle: "json",
    stdout: out,
    secrets: collectConfigSecrets({ gateway: { auth: { token } } }, {}),
  });
  const { logger } = log;
  logger.info({ token }, "top-level key");
  logger.info({ auth: { token } }, "nested key");
  logger.info({ a: { b: { c: { d: { e: { token, password: unknownDeep } } } } } }, "deeper than pino paths");
  logger.info(`connect with ${token} failed`);
  logger.info({ headers: { authorization: `Bearer ${token}` } }, "headers");
  logger.info(`GET /hooks/agent?token=${token}&x=1`);
  logger.info("Authorization: Bearer %s", token);
  logger.error(new Error(`handshake rejected token ${token}`), "with error");
  logger.info({ deviceToken: "device-token-not-known-123" }, "device");
  logger.info({ note: `quoted "${token}" inside` }, "quoted");
  logger.debug({ frame: JSON.stringify({ auth: { token } }) }, "raw frame");
  log.setSecrets([rotated]);
  logger.info(`rotated ${rotated}`);
  await log.close();

  const text = await fs.readFile(file, "utf8");
  const lines = text.trim().split("\n");
  assert.equal(lines.length, 12);
  for (const l of lines) JSON.parse(l);
  for (const sink of [text, out.text()]) {
    for (const secret of [token, rotated, unknownDeep, "device-token-not-known-123"]) {
      assert.ok(!sink.includes(secret), `secret ${secret} leaked:\n${sink}`);
    }
    assert.ok(sink.includes("[REDACTED]"));
    assert.ok(sink.includes("connect with [REDACTED] failed"), "the message around the secret survives");
    assert.ok(sink.includes("/hooks/agent?token=[REDACTED]&x=1"));
  }
  const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(first.token, "[REDACTED]");
  assert.deepEqual(first._meta, { logLevelName: "INFO" });
  assert.equal(typeof first.time, "string");
});

test("redactPatterns from config are applied; redactSensitive off keeps keys and live secrets", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "gw.log");
  const log = await createGatewayLogger({
    file,
    consoleLevel: "silent",
    redactSensitive: "off",
    redactPatterns: ["acct-\\d{6}"],
    secrets: ["live-secret-value"],
  });
  assert.deepEqual(log.setRedactPatterns(["acct-\\d{6}", "(unclosed"]), ["(unclosed"]);
  log.logger.info({ password: "pw-by-key" }, "account acct-123456 with live-secret-value and sk-abcdefghijklmnopqrstuv");
  await log.close();
  const text = await fs.readFile(file, "utf8");
  assert.ok(!text.includes("acct-123456"));
  assert.ok(!text.includes("live-secret-value"));
  assert.ok(!text.includes("pw-by-key"));
  assert.ok(text.includes("sk-abcdefghijklmnopqrstuv"), "default shape patterns are off");
});

test("console: pretty on a TTY, JSON otherwise; --verbose mirrors debug to stdio", async (t) => {
  const dir = await tempDir(t);
  const tty = collector();
  const a = await createGatewayLogger({ file: path.join(dir, "a.log"), stdout: tty, stdoutIsTTY: true, colors: false });
  a.logger.child({ subsystem: "gateway" }).info({ port: 18789 }, "listening");
  a.logger.debug("hidden debug");
  await a.close();
  // pino-pretty's format: [local time] LEVEL: [subsystem] message {fields}
  assert.match(tty.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[gateway\] listening \{"port":18789\}\n$/);

  const pipe = collector();
  const b = await createGatewayLogger({ file: path.join(dir, "b.log"), stdout: pipe, stdoutIsTTY: false, verbose: true });
  b.logger.debug({ method: "health" }, "req");
  await b.close();
  const rec = JSON.parse(pipe.text()) as Record<string, unknown>;
  assert.equal(rec.msg, "req");
  assert.equal(rec.level, 20);
  assert.match(await fs.readFile(path.join(dir, "b.log"), "utf8"), /"msg":"req"/);

  const compact = collector();
  const c = await createGatewayLogger({ file: path.join(dir, "c.log"), stdout: compact, consoleStyle: "compact" });
  c.logger.warn("careful");
  await c.close();
  assert.match(compact.text(), /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] WARN: careful\n$/);
});

test("pino-pretty is loaded only for a human console format, never for JSON stdout", () => {
  // A fresh process each: the module cache of this one is shared with the tests above.
  const probe = (isTTY: boolean): string => {
    const code = [
      'import { createRequire } from "node:module";',
      'import { createGatewayLogger } from "./src/shared/log/logger.ts";',
      `const log = await createGatewayLogger({ level: "silent", stdout: { write() {} }, stdoutIsTTY: ${isTTY} });`,
      "await log.close();",
      'const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/pino-pretty/"));',
      "process.stdout.write(String(loaded));",
    ].join("\n");
    return execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: ROOT, encoding: "utf8" });
  };
  assert.equal(probe(false), "false");
  assert.equal(probe(true), "true");
});

test("logger rotation by size through pino keeps N files", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "gw.log");
  const log = await createGatewayLogger({ file, consoleLevel: "silent", maxFileBytes: 2048, maxFiles: 2 });
  for (let i = 0; i < 200; i++) log.logger.info({ i }, "line");
  await log.close();
  assert.deepEqual((await fs.readdir(dir)).sort(), ["gw.log", "gw.log.1", "gw.log.2"]);
  for (const f of ["gw.log", "gw.log.1", "gw.log.2"]) assert.ok((await fs.stat(path.join(dir, f))).size <= 2048);
  assert.match(await fs.readFile(file, "utf8"), /"i":199/);
});

// ---------------------------------------------------------------------------------------
// logs.tail

test("logs.tail: tail, limit, maxBytes truncation, cursor continuation, reset on shrink", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "gw.log");
  const lines = Array.from({ length: 20 }, (_, i) => `line-${String(i).padStart(2, "0")}`);
  await fs.writeFile(file, `${lines.join("\n")}\n`);
  const size = (await fs.stat(file)).size; // 20 * 8 = 160

  const all = await readLogTail({ file });
  assert.deepEqual(all, { file, cursor: size, size, lines, truncated: false, reset: false });

  const limited = await readLogTail({ file, limit: 3 });
  assert.deepEqual(limited.lines, ["line-17", "line-18", "line-19"]);

  // 20 bytes from the end start mid-line: the partial line is dropped.
  const small = await readLogTail({ file, maxBytes: 20 });
  assert.deepEqual(small.lines, ["line-18", "line-19"]);
  assert.equal(small.truncated, true);
  // Exactly on a boundary: nothing dropped.
  assert.deepEqual((await readLogTail({ file, maxBytes: 16 })).lines, ["line-18", "line-19"]);

  await fs.appendFile(file, "line-20\nline-21\n");
  const next = await readLogTail({ file, cursor: all.cursor });
  assert.deepEqual(next.lines, ["line-20", "line-21"]);
  assert.equal(next.reset, false);
  assert.equal(next.cursor, size + 16);
  const idle = await readLogTail({ file, cursor: next.cursor });
  assert.deepEqual([idle.lines, idle.cursor, idle.reset], [[], next.cursor, false]);

  const behind = await readLogTail({ file, cursor: 0, maxBytes: 24 });
  assert.deepEqual([behind.reset, behind.truncated, behind.lines], [true, true, ["line-19", "line-20", "line-21"]]);

  await fs.writeFile(file, "fresh-1\nfresh-2\n");
  const shrunk = await readLogTail({ file, cursor: next.cursor });
  assert.deepEqual([shrunk.reset, shrunk.truncated, shrunk.lines, shrunk.cursor], [true, false, ["fresh-1", "fresh-2"], 16]);
});

test("logs.tail: limits are clamped; a missing file is empty; the newest rolling file is the fallback", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "many.log");
  await fs.writeFile(file, `${Array.from({ length: 6000 }, (_, i) => `l${i}`).join("\n")}\n`);
  const r = await readLogTail({ file, limit: 100000, maxBytes: 10_000_000 });
  assert.equal(r.lines.length, 5000);
  assert.equal(r.lines.at(-1), "l5999");
  assert.equal((await readLogTail({ file, limit: 0 })).lines.length, 1);

  const missing = path.join(dir, "none.log");
  assert.deepEqual(await readLogTail({ file: missing }), { file: missing, cursor: 0, size: 0, lines: [], truncated: false, reset: false });

  const now = new Date(2026, 0, 24, 12).getTime();
  assert.equal(await resolveLogTailFile({ dir, now }), path.join(dir, "clawdbot-2026-01-24.log"), "nothing to fall back to");
  const older = path.join(dir, "clawdbot-2026-01-20.log");
  const newer = path.join(dir, "clawdbot-2026-01-22.log");
  await fs.writeFile(older, "o\n");
  await fs.writeFile(newer, "n\n");
  await fs.writeFile(path.join(dir, "clawdbot-2026-01-23.log.1"), "rotation, not a daily file\n");
  await fs.utimes(older, new Date(now - 1000), new Date(now - 1000));
  await fs.utimes(newer, new Date(now - 5000), new Date(now - 5000));
  assert.equal(await resolveLogTailFile({ dir, now }), older, "most recently modified daily file");
  await fs.writeFile(path.join(dir, "clawdbot-2026-01-24.log"), "today\n");
  assert.equal(await resolveLogTailFile({ dir, now }), path.join(dir, "clawdbot-2026-01-24.log"));
  assert.equal(await resolveLogTailFile({ file, dir, now }), file, "logging.file wins");
});
