/**
 * The tools a run offers: file tools always, `exec` only with `tools.exec.enabled`, then
 * filtered by `tools.allow` / `tools.deny` (deny wins; a non-empty allow list admits only
 * what it names; `*` matches any run of characters). The same filter serves `/tools/invoke`.
 */
import { FS_TOOLS } from "./fs-tools.js";
import { execTool } from "./exec-tool.js";
import type { AgentTool, ToolContext, ToolOutput } from "./tool-types.js";
import type { AgentRuntimeConfig } from "../agent-config.js";

function matcher(patterns: readonly string[] | undefined): ((name: string) => boolean) | null {
  if (!Array.isArray(patterns) || patterns.length === 0) return null;
  const res = patterns.filter((p) => typeof p === "string").map((p) => new RegExp(`^${p.trim().replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i"));
  return (name) => res.some((r) => r.test(name));
}

/** True when policy lets `name` through. */
export function toolAllowed(cfg: AgentRuntimeConfig, name: string): boolean {
  const deny = matcher(cfg.tools?.deny);
  if (deny?.(name) === true) return false;
  const allow = matcher(cfg.tools?.allow);
  return allow === null || allow(name);
}

/** The tools available to runs under `cfg`. */
export function buildTools(cfg: AgentRuntimeConfig): AgentTool[] {
  const all = cfg.tools?.exec?.enabled === true ? [...FS_TOOLS, execTool] : [...FS_TOOLS];
  return all.filter((t) => toolAllowed(cfg, t.spec.name));
}

/** Runs one tool call; any thrown error becomes an `isError` result for the model. */
export async function runTool(tools: readonly AgentTool[], name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
  const tool = tools.find((t) => t.spec.name === name);
  if (tool === undefined) return { text: `tool "${name}" is not available`, isError: true };
  if (typeof args._invalidArguments === "string") return { text: `arguments for ${name} are not valid JSON: ${args._invalidArguments.slice(0, 200)}`, isError: true };
  try {
    return await tool.execute(args, ctx);
  } catch (err) {
    return { text: err instanceof Error ? err.message : String(err), isError: true };
  }
}
