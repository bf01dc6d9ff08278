/** Reading, writing and removing a service definition file (mode 0644, parents created). */
import fsp from "node:fs/promises";
import path from "node:path";

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
 * Writes via a temp file + rename so a supervisor never reads half a definition.
 * 0644: supervisors read these as the user; secrets never go in unless `--token` asked.
 */
export async function writeDefinitionFile(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, text, { mode: 0o644 });
  await fsp.chmod(tmp, 0o644);
  await fsp.rename(tmp, file);
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
