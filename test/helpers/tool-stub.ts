/**
 * Stand-ins for `systemctl` / `launchctl` at the process boundary: a shell script that
 * appends its argv (one call per line) to a log and prints canned output for
 * `show` (systemctl) / `print` (launchctl) from a file the test can rewrite.
 */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface ToolStub {
  /** Absolute path of the script (pass as CLAWDBOT_SYSTEMCTL / CLAWDBOT_LAUNCHCTL). */
  bin: string;
  /** The recorded calls, each as the argv joined by single spaces. */
  calls(): Promise<string[]>;
  /** Sets what `show`/`print` prints (and its exit code). */
  setStatus(text: string, exitCode?: number): Promise<void>;
}

/** Creates the stub in `dir`. */
export async function makeToolStub(dir: string, name: "systemctl" | "launchctl"): Promise<ToolStub> {
  const bin = join(dir, name);
  const log = join(dir, `${name}.calls`);
  const status = join(dir, `${name}.status`);
  const statusCode = join(dir, `${name}.status-code`);
  const query = name === "systemctl" ? "show" : "print";
  await writeFile(
    bin,
    `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
for a in "$@"; do
  if [ "$a" = "${query}" ]; then
    [ -f '${status}' ] && cat '${status}'
    [ -f '${statusCode}' ] && exit "$(cat '${statusCode}')"
    exit 0
  fi
done
exit 0
`,
  );
  await chmod(bin, 0o755);
  return {
    bin,
    calls: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter((l) => l !== ""),
    setStatus: async (text, exitCode = 0) => {
      await writeFile(status, text);
      await writeFile(statusCode, String(exitCode));
    },
  };
}
