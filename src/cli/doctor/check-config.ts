/** Doctor: is the config file present, parseable and valid, and does it let the gateway start? */
import { formatIssues } from "../../shared/config/validate.js";
import type { DoctorCheck, DoctorContext } from "./doctor-types.js";

/** Checks `ctx.snap`: missing → warn, invalid → fail (issues with their paths), mode not local → warn. */
export async function checkConfig(ctx: DoctorContext): Promise<DoctorCheck> {
  const s = ctx.snap;
  if (!s.exists) {
    return { id: "config", status: "warn", message: `no config at ${s.path}: the gateway refuses to start without gateway.mode=local`, fix: `${ctx.cli} setup` };
  }
  if (!s.valid) {
    const issues = formatIssues(s.issues).split("\n").join("; ");
    return {
      id: "config",
      status: "fail",
      message: `config ${s.path} is invalid (the gateway exits 78 until it is fixed): ${issues}`,
      fix: `edit ${s.path} and fix the paths named above`,
    };
  }
  const mode = s.config.gateway.mode;
  if (mode === "remote") return { id: "config", status: "ok", message: `config ${s.path} is valid (remote mode: the CLI targets gateway.remote.url)` };
  if (mode !== "local") {
    return {
      id: "config",
      status: "warn",
      message: `config ${s.path} is valid but gateway.mode is not "local": \`clawdbot gateway\` refuses to start`,
      fix: `set gateway.mode to "local" in ${s.path} (or pass --allow-unconfigured)`,
    };
  }
  if (s.warnings.length > 0) {
    return { id: "config", status: "warn", message: `config ${s.path} is valid with remarks: ${s.warnings.map((w) => `${w.path}: ${w.message}`).join("; ")}` };
  }
  return { id: "config", status: "ok", message: `config ${s.path} is valid` };
}
