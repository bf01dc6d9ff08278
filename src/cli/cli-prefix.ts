/** How to invoke this CLI for the active profile, for "what to do next" messages. */
import { activeProfile, type Env } from "../shared/config/paths.js";

/** `clawdbot`, `clawdbot --dev` or `clawdbot --profile <name>`. */
export function cliCommand(env: Env = process.env): string {
  const p = activeProfile(env);
  if (p === undefined) return "clawdbot";
  return p === "dev" ? "clawdbot --dev" : `clawdbot --profile ${p}`;
}
