/** Reading, writing and removing a service definition file (parents created). */
import fsp from "node:fs/promises";
import path from "node:path";

import { writeFileAtomic } from "./service-secrets.js";

/** The file's text, or null when it does not exist. */
export async function readDefinitionFile(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Writes via a temp file + fsync + rename so a supervisor never reads half a definition.
 * `mode` 0644 (default) for a systemd unit, which never holds secrets; 0600 for a launchd
 * plist, which may (`install --token`).
 */
export async function writeDefinitionFile(file: string, text: string, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, text, mode);
}

/** Removes the file; false when it was not there. */
export async function removeDefinitionFile(file: string): Promise<boolean> {
  try {
    await fsp.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Files in `dir` whose names match `re` (empty when the dir is missing). */
export async function listDefinitionFiles(dir: string, re: RegExp): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
}
