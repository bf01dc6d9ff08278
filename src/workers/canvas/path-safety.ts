/**
 * Maps a request path under a served prefix to a file inside a root directory, or to nothing.
 *
 * Two independent gates, both must pass:
 *   1. Lexical (`toSafeSegments`): the raw path (as sent, still percent-encoded) is decoded
 *      exactly once. Raw or decoded backslashes, NUL/control characters, `..` segments,
 *      absolute paths and escapes that survive the single decode (`%252e` → `%2e`, i.e. a
 *      double-encoded dot, slash, backslash, NUL or percent) are rejected. Nothing is
 *      "repaired": a path that needs repair is an attack or a bug, and either way a 404.
 *   2. Physical (`resolveInsideRoot`, then `openInsideRoot`): the candidate is realpath'd and
 *      must still be inside the realpath of the root, so a symlink (at any depth) pointing
 *      outside is refused. Symlinks that stay inside the root are allowed.
 *
 * Check-then-open race: any directory on the path can be swapped for an escaping symlink
 * between the realpath check and the open (O_NOFOLLOW only covers the last component, and
 * Node exposes neither openat nor openat2(RESOLVE_BENEATH)). So the check is repeated on
 * what was actually opened: `openInsideRoot` opens, then asks the kernel where the open
 * descriptor lives (`/proc/self/fd/<fd>` on Linux) and serves nothing unless that is inside
 * the root. On Linux, whatever the timing, the bytes sent come from a file inside the root.
 * Elsewhere (no /proc, and Node has no F_GETPATH) the path is re-resolved after the open and
 * must name the same dev/inode as `fstat` of the descriptor: this narrows the window to the
 * re-resolution itself but cannot close it (a path lookup can always be redirected
 * mid-walk); see docs/canvas.md.
 */
import fs from "node:fs";
import path from "node:path";

/** Characters never allowed in a decoded path: C0 controls (incl. NUL), DEL, backslash. */
const FORBIDDEN_DECODED = /[\u0000-\u001f\u007f\\]/;
/**
 * Percent escapes still present after the single decode that would decode (again) into
 * something structural: `.` `/` `\` `%` or a control character.
 */
const DANGEROUS_LEFTOVER_ESCAPE = /%(?:2e|2f|5c|25|[01][0-9a-f]|7f)/i;

/**
 * Splits the still-encoded part of a request path after the prefix (no query string) into
 * safe path segments, or returns null when the path must be refused (→ 404).
 * Empty and `.` segments are dropped; the caller decides what a trailing `/` means.
 */
export function toSafeSegments(rawPath: string): string[] | null {
  if (rawPath.includes("\\") || rawPath.includes("\u0000")) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null; // malformed escapes or invalid UTF-8 (e.g. overlong %c0%ae)
  }
  if (FORBIDDEN_DECODED.test(decoded)) return null;
  if (DANGEROUS_LEFTOVER_ESCAPE.test(decoded)) return null;
  if (decoded.startsWith("/") || path.isAbsolute(decoded)) return null;
  const segments: string[] = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return null;
    segments.push(segment);
  }
  return segments;
}

/** True when `candidate` is `rootReal` itself or lies below it. Both must be absolute. */
export function isInsideRoot(rootReal: string, candidate: string): boolean {
  const rel = path.relative(rootReal, candidate);
  // `..foo` is a legitimate child name; only a leading `..` *segment* means "outside".
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Outcome of resolving segments against a root. */
export type ResolveResult =
  | { kind: "file"; realPath: string; size: number }
  | { kind: "missing"; wantedIndex: boolean }
  | { kind: "refused" };

/**
 * Resolves safe segments to a regular file inside `rootReal` (which must already be a
 * realpath). A directory (or a path with a trailing slash) resolves to its `index.html`.
 * Anything that is not a regular file (FIFO, socket, device) is reported as missing.
 */
export async function resolveInsideRoot(
  rootReal: string,
  segments: readonly string[],
  trailingSlash: boolean,
): Promise<ResolveResult> {
  let candidate = path.join(rootReal, ...segments);
  if (!isInsideRoot(rootReal, candidate)) return { kind: "refused" };
  let wantedIndex = trailingSlash || segments.length === 0;
  if (wantedIndex) {
    candidate = path.join(candidate, "index.html");
  } else {
    const st = await statOrNull(candidate);
    if (st?.isDirectory()) {
      candidate = path.join(candidate, "index.html");
      wantedIndex = true;
    }
  }
  let realPath: string;
  try {
    realPath = await fs.promises.realpath(candidate);
  } catch {
    return { kind: "missing", wantedIndex };
  }
  if (!isInsideRoot(rootReal, realPath)) return { kind: "refused" };
  const st = await statOrNull(realPath);
  if (!st?.isFile()) return { kind: "missing", wantedIndex };
  return { kind: "file", realPath, size: st.size };
}

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch {
    return null;
  }
}

/**
 * Open flags for serving: read-only, refuse a final-component symlink (the path is already a
 * realpath, so a symlink there now means it was swapped in after the check), and never block
 * on a FIFO that appeared in the meantime. Flags missing on the platform are 0.
 */
export const SAFE_OPEN_FLAGS =
  fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

/** An opened file that was verified to lie inside the root. */
export interface OpenedFile {
  handle: fs.promises.FileHandle;
  /** Size from `fstat` of the descriptor (what will be sent). */
  size: number;
}

/** `/proc/self/fd` exists (Linux): the kernel names the path of an open descriptor. */
const PROC_FD = process.platform === "linux" && fs.existsSync("/proc/self/fd");

/**
 * How an opened descriptor is located: `proc` reads `/proc/self/fd/<fd>` (Linux),
 * `reresolve` realpaths the path again and compares dev/inode with `fstat` (elsewhere).
 */
export type VerifyStrategy = "proc" | "reresolve";

/** The strategy this platform uses. */
export const DEFAULT_VERIFY_STRATEGY: VerifyStrategy = PROC_FD ? "proc" : "reresolve";

/**
 * Opens `realPath` (from `resolveInsideRoot`) and verifies that the *opened descriptor* is a
 * regular file inside `rootReal`; null (descriptor closed) when it is not, or when the path
 * changed under us. Never follows a final-component symlink, never blocks on a FIFO.
 */
export async function openInsideRoot(
  rootReal: string,
  realPath: string,
  strategy: VerifyStrategy = DEFAULT_VERIFY_STRATEGY,
): Promise<OpenedFile | null> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(realPath, SAFE_OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = await handle.stat();
    if (st.isFile() && (await descriptorIsInside(handle, rootReal, realPath, strategy, st))) return { handle, size: st.size };
  } catch {
    // fall through: anything unexpected is a refusal
  }
  await handle.close().catch(() => {});
  return null;
}

/**
 * True when the file open on `handle` lies inside `rootReal` (see the module comment for
 * the two strategies). `realPath` is the path it was opened by.
 */
export async function descriptorIsInside(
  handle: fs.promises.FileHandle,
  rootReal: string,
  realPath: string,
  strategy: VerifyStrategy = DEFAULT_VERIFY_STRATEGY,
  st?: fs.Stats,
): Promise<boolean> {
  if (strategy === "proc") {
    // The kernel's path of the open file (a deleted file gets " (deleted)" appended, which
    // stays inside the root lexically: it was inside when it was opened).
    const actual = await fs.promises.readlink(`/proc/self/fd/${handle.fd}`);
    return path.isAbsolute(actual) && isInsideRoot(rootReal, actual);
  }
  // No F_GETPATH in Node: resolve the path again *after* the open and require that it is
  // inside the root and names the very file the descriptor holds. If a swap sent the open
  // outside, the file at the re-resolved path is a different inode (or outside): refused.
  const again = await fs.promises.realpath(realPath);
  if (!isInsideRoot(rootReal, again)) return false;
  const [now, held] = await Promise.all([fs.promises.lstat(again), st ?? handle.stat()]);
  return now.dev === held.dev && now.ino === held.ino;
}
