/**
 * Confinement of tool paths to the agent workspace. A path is resolved against the workspace
 * (relative or absolute), then checked twice: lexically (no `..` way out, no absolute path
 * elsewhere) and after symlink resolution (realpath of the target, or of its deepest existing
 * ancestor when it does not exist yet) — so a symlink inside the workspace cannot lead out.
 * Files are then opened with O_NOFOLLOW, so the final component cannot be swapped for a
 * symlink between the check and the open. (A directory swapped mid-path in that window is
 * not covered: the workspace belongs to the agent's own user.)
 */
import { mkdir, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { homedir } from "node:os";

/** A tool failure reported back to the model (not a run failure). */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function errno(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}

/** The workspace directory, created if missing, as a real path (one syscall when it exists: every run asks). */
export async function workspaceRoot(workspace: string): Promise<string> {
  try {
    return await realpath(workspace);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
  }
  await mkdir(workspace, { recursive: true, mode: 0o700 });
  return realpath(workspace);
}

/**
 * Resolves `p` (relative to the workspace, absolute, or `~/…`) to a real path inside `root`
 * (a `workspaceRoot` result). Throws `ToolInputError` for anything outside.
 */
export async function resolveInWorkspace(root: string, p: string): Promise<string> {
  if (typeof p !== "string" || p.includes("\0")) throw new ToolInputError("path must be a string without NUL bytes");
  const expanded = p === "~" ? homedir() : p.startsWith("~/") ? join(homedir(), p.slice(2)) : p;
  const abs = resolve(root, expanded);
  if (!inside(root, abs)) throw new ToolInputError(`path ${p} is outside the workspace (${root})`);
  // Walk up to the deepest existing ancestor and resolve symlinks there.
  let probe = abs;
  let rest = "";
  for (;;) {
    try {
      const real = await realpath(probe);
      const full = rest === "" ? real : join(real, rest);
      if (!inside(root, full)) throw new ToolInputError(`path ${p} leads outside the workspace through a symlink`);
      return full;
    } catch (err) {
      if (err instanceof ToolInputError) throw err;
      if (errno(err) !== "ENOENT" && errno(err) !== "ENOTDIR") throw err;
      const parent = dirname(probe);
      if (parent === probe) throw new ToolInputError(`path ${p} cannot be resolved`);
      rest = rest === "" ? relative(parent, probe) : join(relative(parent, probe), rest);
      probe = parent;
    }
  }
}
