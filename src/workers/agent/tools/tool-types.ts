/** Workspace tool contract: a spec offered to the model and an executor. */
import type { ToolSpec } from "../providers/provider-types.js";

/** What a tool returns to the model. */
export interface ToolOutput {
  text: string;
  isError: boolean;
  /** Extra structured data (kept in the transcript's `details`). */
  details?: unknown;
}

/** Per-call context. */
export interface ToolContext {
  /** Real path of the workspace root. */
  root: string;
  /** Aborted with the run. */
  signal: AbortSignal;
}

/** A tool. `execute` throws `ToolInputError` (or any error) to report a failure to the model. */
export interface AgentTool {
  spec: ToolSpec;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

/** Largest text a tool hands back to the model (bytes); longer output is cut with a notice. */
export const TOOL_OUTPUT_MAX_BYTES = 50 * 1024;

/** Reads a required string argument. */
export function str(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== "string") throw new TypeError(`argument "${name}" must be a string`);
  return v;
}

/** Reads an optional positive integer argument. */
export function optInt(args: Record<string, unknown>, name: string): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new TypeError(`argument "${name}" must be a non-negative integer`);
  return v;
}

/** Cuts `text` to at most `max` UTF-8 bytes (keeping the head). */
export function capText(text: string, max = TOOL_OUTPUT_MAX_BYTES): { text: string; truncated: boolean } {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return { text, truncated: false };
  return { text: buf.subarray(0, max).toString("utf8").replace(/\uFFFD$/, ""), truncated: true };
}
