/** The rolling log directory in a shared /tmp: never follow planted symlinks, never use a foreign dir. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";

import { resolveLogDir, rollingLogPath } from "../../src/shared/log/log-paths.js";
import { RollingFileDestination } from "../../src/shared/log/rolling-file.js";
import { tempDir } from "../helpers/temp-dir.js";

const uid = typeof process.getuid === "function" ? process.getuid() : undefined;

/** Writes one line through a destination on `dir` and returns the error it reported, if any. */
async function writeOnce(dir: string): Promise<Error | undefined> {
  const dest = new RollingFileDestination({ dir, pruneAfterMs: 0 });
  let error: Error | undefined;
  dest.on("error", (e) => (error = e));
  dest.write('{"msg":"Origin: attacker-chosen text"}\n');
  await dest.close();
  return error;
}

test("today's log file planted as a symlink to a victim file is not followed", async (t) => {
  const root = await tempDir(t);
  const victim = path.join(root, "victim.txt");
  await fs.writeFile(victim, "precious\n");
  const dir = path.join(root, "logs");
  await fs.mkdir(dir, { mode: 0o700 });
  await fs.symlink(victim, rollingLogPath(Date.now(), dir));
  const err = await writeOnce(dir);
  assert.match(String(err?.message), /ELOOP|symbolic link/);
  assert.equal(await fs.readFile(victim, "utf8"), "precious\n");
});

test("a log directory writable by others, symlinked, or owned by another user is refused", async (t) => {
  const root = await tempDir(t);
  const victim = path.join(root, "victim.txt");
  await fs.writeFile(victim, "precious\n");

  const shared = path.join(root, "shared");
  await fs.mkdir(shared);
  await fs.chmod(shared, 0o777);
  assert.match(String((await writeOnce(shared))?.message), /writable by group or others/);
  assert.deepEqual(await fs.readdir(shared), []);

  const real = path.join(root, "real");
  await fs.mkdir(real, { mode: 0o700 });
  const linked = path.join(root, "linked");
  await fs.symlink(real, linked);
  assert.match(String((await writeOnce(linked))?.message), /symbolic link/);
  assert.deepEqual(await fs.readdir(real), []);

  if (uid === 0) {
    const foreign = path.join(root, "foreign");
    await fs.mkdir(foreign, { mode: 0o755 });
    await fs.symlink(victim, rollingLogPath(Date.now(), foreign));
    await fs.chown(foreign, 65534, 65534);
    assert.match(String((await writeOnce(foreign))?.message), /owned by uid 65534/);
  }
  assert.equal(await fs.readFile(victim, "utf8"), "precious\n");
});

test("a fresh log directory is created 0700; our own 0755 one is tightened; files are 0600", async (t) => {
  const root = await tempDir(t);
  const fresh = path.join(root, "fresh");
  assert.equal(await writeOnce(fresh), undefined);
  assert.equal((await fs.stat(fresh)).mode & 0o777, 0o700);
  assert.equal((await fs.stat(rollingLogPath(Date.now(), fresh))).mode & 0o777, 0o600);
  const old = path.join(root, "old");
  await fs.mkdir(old);
  await fs.chmod(old, 0o755);
  assert.equal(await writeOnce(old), undefined);
  assert.equal((await fs.stat(old)).mode & 0o777, 0o700);
});

test("the default directory falls back to a per-user one when the shared name is not ours", { skip: uid === undefined }, async (t) => {
  const root = await tempDir(t);
  const preferred = path.join(root, "clawdbot");
  assert.equal(resolveLogDir(preferred), preferred, "absent: the documented path");
  await fs.mkdir(preferred, { mode: 0o700 });
  assert.equal(resolveLogDir(preferred), preferred, "ours: the documented path");
  await fs.chmod(preferred, 0o777);
  assert.equal(resolveLogDir(preferred), `${preferred}-${uid}`);
  await fs.rm(preferred, { recursive: true });
  await fs.symlink(root, preferred);
  assert.equal(resolveLogDir(preferred), `${preferred}-${uid}`);
});
