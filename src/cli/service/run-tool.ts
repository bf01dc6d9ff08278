/**
 * Running the supervisor's control tool (`systemctl`, `launchctl`) at the process
 * boundary. The binary comes from PATH, or from `CLAWDBOT_SYSTEMCTL` /
 * `CLAWDBOT_LAUNCHCTL` when set (tests point these at a stub that records its argv).
 */
import { execFile } from "node:child_process";

import type { Env } from "../../shared/config/paths.js";

/** Exit code, stdout and stderr of one tool run; code 127 when the binary is missing. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the tool with `args`. Never throws. */
export type ToolRunner = (args: string[]) => Promise<ToolResult>;

/** Environment variable overriding each tool's binary. */
export const TOOL_ENV_OVERRIDES = { systemctl: "CLAWDBOT_SYSTEMCTL", launchctl: "CLAWDBOT_LAUNCHCTL" } as const;

/** The binary to run for `tool`: the override variable when set, else the bare name (PATH lookup). */
export function resolveToolBinary(tool: keyof typeof TOOL_ENV_OVERRIDES, env: Env = process.env): string {
  const override = env[TOOL_ENV_OVERRIDES[tool]]?.trim();
  return override !== undefined && override !== "" ? override : tool;
}

/** A runner for `bin`, each run bounded by `timeoutMs` (default 15000). */
export function createToolRunner(bin: string, timeoutMs = 15_000): ToolRunner {
  return (args) =>
    new Promise((resolve) => {
      execFile(bin, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        if (e.code === "ENOENT") {
          resolve({ code: 127, stdout: "", stderr: `${bin}: not found on PATH` });
          return;
        }
        const code = typeof e.code === "number" ? e.code : 1;
        const extra = e.killed === true ? `${bin} timed out after ${timeoutMs}ms` : "";
        resolve({ code, stdout, stderr: `${stderr}${extra}` });
      });
    });
}

/** `cmd args…` for messages. */
export function describeCommand(bin: string, args: readonly string[]): string {
  return [bin, ...args].map((a) => (/[\s"'\\]/.test(a) ? JSON.stringify(a) : a)).join(" ");
}
