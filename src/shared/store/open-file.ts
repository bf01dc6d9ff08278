/**
 * Small file-system helpers shared by the stores (atomic JSON files, append logs).
 */
import { mkdir, open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** The `code` of a Node.js system error (`ENOENT`, …), if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/**
 * Opens `file` with `flags`/`mode`, creating its parent directories (mode `dirMode`) only
 * when the open fails for want of them: state files are opened far more often than their
 * directories are created, so the common case costs one syscall.
 */
export async function openCreatingParents(file: string, flags: string, mode: number, dirMode: number): Promise<FileHandle> {
  try {
    return await open(file, flags, mode);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
    await mkdir(dirname(file), { recursive: true, mode: dirMode });
    return open(file, flags, mode);
  }
}
