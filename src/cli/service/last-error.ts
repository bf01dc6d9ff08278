/**
 * The last gateway error line, for `gateway status` when the service looks running but
 * its port is closed: searched in the supervisor's stderr file, then the rolling log.
 */
import fsp from "node:fs/promises";

/** Bytes read from the end of each file. */
const TAIL_BYTES = 256 * 1024;
const ERROR_RE = /error|ERROR|fatal/;

async function readTail(file: string): Promise<string | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, "r");
  } catch {
    return null;
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    return buf.toString("utf8", 0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The last line of `file` containing "error", "ERROR" or "fatal"; undefined when none. */
export async function lastErrorLineOf(file: string): Promise<string | undefined> {
  const text = await readTail(file);
  if (text === null) return undefined;
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? "").trim();
    if (line !== "" && ERROR_RE.test(line)) return line.length > 500 ? `${line.slice(0, 500)}…` : line;
  }
  return undefined;
}

/** The first file (in order) that has an error line, and that line. */
export async function findLastGatewayError(files: readonly string[]): Promise<{ file: string; line: string } | undefined> {
  for (const file of files) {
    const line = await lastErrorLineOf(file);
    if (line !== undefined) return { file, line };
  }
  return undefined;
}
