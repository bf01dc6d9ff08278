/**
 * Per-user directories in shared places (`/tmp`): the instance lock and the rolling logs
 * live there, where any local user can create names first. A directory is used only when
 * it is a real directory (not a symlink), owned by the current user and not writable by
 * group or others; a directory we own that is merely readable by others (an older
 * release's 0755) is tightened to 0700. Anything else is refused with `UnsafeDirError`
 * (exit 78: it will not fix itself, so a supervisor must not restart-loop on it).
 * On Windows (no uids) the checks are skipped.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";

/** Code of `UnsafeDirError` (mapped to exit 78 by `exitCodeFor`). */
export const UNSAFE_DIR_CODE = "GW_ERR_UNSAFE_DIR";

/** A shared-location directory that is not safely ours. */
export class UnsafeDirError extends Error {
  readonly code = UNSAFE_DIR_CODE;
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`refusing to use ${dir}: ${reason}; remove it (or fix its owner/mode to you/0700) and retry`);
    this.name = "UnsafeDirError";
  }
}

function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/** Why `st` (from lstat) is not a safe private directory for `uid`, or undefined. */
export function privateDirProblem(st: fs.Stats, uid: number | undefined): string | undefined {
  if (st.isSymbolicLink()) return "it is a symbolic link";
  if (!st.isDirectory()) return "it is not a directory";
  if (uid === undefined) return undefined;
  if (st.uid !== uid) return `it is owned by uid ${st.uid}, not by you (uid ${uid})`;
  if ((st.mode & 0o022) !== 0) return `it is writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`;
  return undefined;
}

/** Creates `dir` (0700, parents as needed) or verifies an existing one; throws `UnsafeDirError`. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fsp.lstat(dir);
  const uid = currentUid();
  const problem = privateDirProblem(st, uid);
  if (problem !== undefined) throw new UnsafeDirError(dir, problem);
  if (uid !== undefined && (st.mode & 0o077) !== 0) await fsp.chmod(dir, 0o700);
}

/** True when `dir` is absent or already a safe private directory (no side effects). */
export function isPrivateDirOrAbsent(dir: string): boolean {
  try {
    return privateDirProblem(fs.lstatSync(dir), currentUid()) === undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}
