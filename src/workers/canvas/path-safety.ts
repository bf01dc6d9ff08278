/**
 * Maps a request path under a served prefix to a file inside a root directory, or to nothing.
 *
 * Two independent gates, both must pass:
 *   1. Lexical (`toSafeSegments`): the raw path (as sent, still percent-encoded) is decoded
 *      exactly once. Raw or decoded backslashes, NUL/control characters, `..` segments,
 *      absolute paths and escapes that survive the single decode (`%252e` → `%2e`, i.e. a
 *      double-encoded dot, slash, backslash, NUL or percent) are rejected. Nothing is
 *      "repaired": a path that needs repair is an attack or a bug, and either way a 404.
 *   2. Physical (`resolveInsideRoot`): the candidate is realpath'd and must still be inside the
 *      realpath of the root, so a symlink (at any depth) pointing outside is refused. Symlinks
 *      that stay inside the root are allowed.
 *
 * Remaining race: a directory swapped for an escaping symlink between the realpath check and
 * the open. The final component is opened with O_NOFOLLOW; closing the gap for intermediate
 * components needs openat2(RESOLVE_BENEATH), which Node does not expose.
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
