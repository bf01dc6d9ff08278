/**
 * The built Control UI and A2UI pages for tests: built once per test process with esbuild's
 * JS API (scripts/build-ui.ts) into a temp dir, removed at exit. ~1 s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildUi, type BuiltUi } from "../../../scripts/build-ui.js";

let built: Promise<BuiltUi> | null = null;

/** The bundle directories (built on first call). */
export function uiBundle(): Promise<BuiltUi> {
  built ??= (() => {
    const dir = mkdtempSync(join(tmpdir(), "clawgate-ui-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return buildUi({ outDir: dir });
  })();
  return built;
}
