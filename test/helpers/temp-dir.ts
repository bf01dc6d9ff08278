/** Temporary directories for tests: created now, removed (recursively) when the test ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a test context must offer: `node:test`'s `t` (method syntax, so narrower hook types fit). */
export interface AfterHook {
  after(fn: () => unknown): void;
}

/**
 * A fresh directory under the OS temp dir, removed in `t.after`. Synchronous so that sync
 * and async tests alike can call it; `prefix` only names the directory (default `clawgate-test-`).
 */
export function tempDir(t: AfterHook, prefix = "clawgate-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
