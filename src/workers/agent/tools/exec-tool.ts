/**
 * `exec {command, timeout?}`: runs a shell command in the workspace (only offered when
 * `tools.exec.enabled`). The command runs in its own process group, killed on timeout or run
 * abort; output (stdout and stderr interleaved) is capped, keeping the tail.
 */
import { spawn } from "node:child_process";
import { TOOL_OUTPUT_MAX_BYTES, optInt, str } from "./tool-types.js";
import type { AgentTool } from "./tool-types.js";

/** Default and maximum `timeout` (seconds). */
export const EXEC_DEFAULT_TIMEOUT_S = 120;
export const EXEC_MAX_TIMEOUT_S = 1800;

export const execTool: AgentTool = {
  spec: {
    name: "exec",
    description: "Run a shell command in the workspace. timeout in seconds (default 120). Output is capped (tail kept).",
    parameters: { type: "object", properties: { command: { type: "string" }, timeout: { type: "integer", minimum: 1 } }, required: ["command"] },
  },
  execute(args, ctx) {
    const command = str(args, "command");
    const timeoutS = Math.min(optInt(args, "timeout") ?? EXEC_DEFAULT_TIMEOUT_S, EXEC_MAX_TIMEOUT_S);
    return new Promise((resolve) => {
      const child = spawn("/bin/sh", ["-c", command], { cwd: ctx.root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      // Ring of the last TOOL_OUTPUT_MAX_BYTES bytes: memory stays bounded whatever the command prints.
      let chunks: Buffer[] = [];
      let bytes = 0;
      let dropped = 0;
      const take = (b: Buffer): void => {
        chunks.push(b);
        bytes += b.length;
        while (bytes - (chunks[0]?.length ?? 0) >= TOOL_OUTPUT_MAX_BYTES && chunks.length > 1) {
          bytes -= chunks[0]!.length;
          dropped += chunks.shift()!.length;
        }
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      let why: "timeout" | "aborted" | null = null;
      const kill = (reason: "timeout" | "aborted"): void => {
        why ??= reason;
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const timer = setTimeout(() => kill("timeout"), timeoutS * 1000);
      const onAbort = (): void => kill("aborted");
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      child.on("error", (err) => take(Buffer.from(`\n${err.message}\n`)));
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
        let out = Buffer.concat(chunks);
        if (out.length > TOOL_OUTPUT_MAX_BYTES) {
          dropped += out.length - TOOL_OUTPUT_MAX_BYTES;
          out = out.subarray(out.length - TOOL_OUTPUT_MAX_BYTES);
        }
        chunks = [];
        let text = (dropped > 0 ? `[${dropped} earlier bytes of output omitted]\n` : "") + out.toString("utf8");
        if (why === "timeout") text += `\n[command timed out after ${timeoutS} s and was killed]`;
        else if (why === "aborted") text += "\n[command killed: run aborted]";
        else text += `\n[exit code ${code ?? `signal ${signal ?? "?"}`}]`;
        resolve({ text, isError: why !== null || code !== 0, details: { exitCode: code, timedOut: why === "timeout" } });
      });
    });
  },
};
