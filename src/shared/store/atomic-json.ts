/**
 * Atomic JSON files under the state dir.
 *
 * A write never leaves a half-written target behind, whatever the moment the process dies:
 *
 *   <file>.<pid>.<hex>.tmp   open O_EXCL, mode 0600 -> write -> fsync -> close
 *        |  rename(2) (atomic on POSIX: readers see the old or the new file, never a mix)
 *        v
 *   <file>                   then fsync(<dir>) so the rename itself survives a power cut
 *
 * A crash can leave a stale `.tmp` behind; readers never look at tmp files (the names are
 * unique per pid + random suffix, so they cannot collide with a later write either), and
 * `removeStaleTempFiles` deletes the ones whose writer process is gone.
 *
 * Everything here is async (fs/promises): the main thread never blocks on disk. Serialised,
 * coalescing write-behind on top of these lives in `write-behind.ts`.
 */
import { open, rename, unlink, readFile, readdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { GatewayError } from "../errors.js";
import { errnoCode, openCreatingParents } from "./open-file.js";

/** Options of `writeFileAtomic` / `writeJsonAtomic`. */
export interface AtomicWriteOptions {
  /** File mode of the written file (applied with chmod, so the umask cannot widen or narrow it). Default `0o600`. */
  mode?: number;
  /** Mode of parent directories created on the way. Default `0o700`. */
  dirMode?: number;
}


async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    // Some platforms/filesystems cannot open or fsync a directory; the rename is still atomic there.
    const code = errnoCode(err);
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `data` to `file` atomically: tmp file (mode 0600, fsync) → rename over the target →
 * fsync of the directory. Parent directories are created with mode 0700.
 * Throws `GW_ERR_STORE_WRITE_FAILED` (retryable) on any I/O failure; the target is untouched then.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const dir = dirname(file);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await openCreatingParents(tmp, "wx", mode, opts.dirMode ?? 0o700);
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    await fsyncDirectory(dir);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new GatewayError("GW_ERR_STORE_WRITE_FAILED", `could not write ${file}: ${(err as Error).message}`, {
      path: file,
      errno: errnoCode(err),
    }, { cause: err });
  }
}

/** Serialises `value` as pretty JSON (2-space indent, trailing newline) and writes it with `writeFileAtomic`. */
export async function writeJsonAtomic(file: string, value: unknown, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, opts);
}

/** Options of `readJsonFile`. */
export interface ReadJsonOptions<T> {
  /** Value returned when the file does not exist (called each time; return a fresh object). */
  fallback: () => T;
  /** Shape check; a file that parses but fails it counts as corrupt. Default: accept anything. */
  validate?: (value: unknown) => value is T;
  /**
   * What to do with a corrupt file (bad JSON or failed `validate`):
   * - `"throw"` (default): throw `GW_ERR_STORE_CORRUPT` with `details.path`; nothing is touched,
   *   the operator fixes or removes the file.
   * - `"quarantine"`: rename it to `<file>.corrupt-<ms>` (kept for inspection), call
   *   `onQuarantine`, and return `fallback()`.
   */
  onCorrupt?: "throw" | "quarantine";
  /** Called after a corrupt file was moved aside (only with `onCorrupt: "quarantine"`). */
  onQuarantine?: (info: { path: string; movedTo: string; reason: string }) => void;
}

/**
 * Reads a JSON file written by `writeJsonAtomic`. A missing file yields `fallback()`;
 * a corrupt one is handled per `onCorrupt`. Temp files are never read.
 */
export async function readJsonFile<T>(file: string, opts: ReadJsonOptions<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return opts.fallback();
    throw new GatewayError("GW_ERR_STORE_CORRUPT", `could not read ${file}: ${(err as Error).message}`, { path: file }, { cause: err });
  }
  let reason: string;
  try {
    const value: unknown = JSON.parse(text);
    if (opts.validate === undefined || opts.validate(value)) return value as T;
    reason = "unexpected shape";
  } catch (err) {
    reason = (err as Error).message;
  }
  if (opts.onCorrupt !== "quarantine") {
    throw new GatewayError("GW_ERR_STORE_CORRUPT", `${file} is corrupt (${reason}); fix or remove it`, { path: file });
  }
  const movedTo = `${file}.corrupt-${Date.now()}`;
  try {
    await rename(file, movedTo);
  } catch (err) {
    throw new GatewayError("GW_ERR_STORE_CORRUPT", `${file} is corrupt (${reason}) and could not be moved aside: ${(err as Error).message}`, {
      path: file,
    }, { cause: err });
  }
  opts.onQuarantine?.({ path: file, movedTo, reason });
  return opts.fallback();
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else — treat as alive, leave its file alone.
    return errnoCode(err) === "EPERM";
  }
}

/**
 * Deletes `<file>.<pid>.<hex>.tmp` leftovers whose writer process no longer exists (a crash
 * between open and rename). Files of live processes are kept. Returns the removed paths.
 */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (m === null || processIsAlive(Number(m[1]))) continue;
    const p = join(dir, name);
    await unlink(p).then(
      () => removed.push(p),
      () => undefined,
    );
  }
  return removed;
}
