/**
 * Compiles the gateway with tsc into `bench/.build/` (git-ignored) so it can be measured
 * the way `npm start` runs it: plain JavaScript, no loader.
 *
 * Why not just tsx: tsx transpiles with esbuild `keepNames`, which wraps every function
 * expression in `__name(fn, "…")` (an Object.defineProperty per closure creation). Hot
 * paths that create closures per request pay for that under tsx only.
 *
 * The project is `bench/tsconfig.dist.json`: the gateway's sources plus the bench's gateway
 * children (`bench/lib/*-child.ts`), so a child can run on plain node, without tsx.
 *
 * The build is incremental; type errors (a tree being edited by others) do not stop the
 * emit, they are reported as a warning.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, track } from "./children.js";

/** Output directory of the bench build. */
export const BUILD_DIR = join(REPO_ROOT, "bench", ".build");

/** The compiled form of a bench child `bench/lib/<name>.ts`. */
export function builtChild(name: string): string {
  return join(BUILD_DIR, "bench", "lib", `${name}.js`);
}

/** Builds (incrementally) and returns the compiled CLI entry plus any tsc diagnostics. */
export async function buildDist(timeoutMs = 180_000): Promise<{ cliEntry: string; diagnostics: string }> {
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "-p", join("bench", "tsconfig.dist.json"), "--outDir", BUILD_DIR, "--incremental", "--tsBuildInfoFile", join(BUILD_DIR, ".tsbuildinfo"), "--pretty", "false"];
  const child = track(spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const code = await new Promise<number | null>((res, rej) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      rej(new Error(`tsc did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (c) => {
      clearTimeout(t);
      res(c);
    });
  });
  const cliEntry = join(BUILD_DIR, "src", "cli", "main.js");
  if (!existsSync(cliEntry)) throw new Error(`tsc produced no ${cliEntry} (exit ${code}):\n${out.slice(0, 4000)}`);
  return { cliEntry, diagnostics: code === 0 ? "" : out.trim() };
}
