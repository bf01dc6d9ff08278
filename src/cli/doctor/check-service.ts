/**
 * Doctor: does the installed unit/plist match what `gateway install` would write now
 * (same port and token as installed; current node, CLI entry, version, env and
 * directives)? Is every file that may hold the token private (systemd: the unit has no
 * inline token and its EnvironmentFile is 0600; launchd: the plist is 0600)? A drifted or
 * exposed definition is offered for rewrite (--fix/--yes rewrites it).
 */
import fsp from "node:fs/promises";
import { createServiceManager } from "../service/create-manager.js";
import type { ServiceManager } from "../service/service-manager.js";
import { resolveInstallSpec } from "../service/service-lifecycle.js";
import { portFromProgramArguments } from "../service/service-spec.js";
import type { DoctorCheck, DoctorContext } from "./doctor-types.js";

const MAX_DIFF_LINES = 6;

function redact(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join("***");
  return out;
}

/** Lines only in `before` (-) and only in `after` (+), in order, with `secrets` masked. */
export function summarizeDiff(before: string, after: string, secrets: readonly string[] = []): string[] {
  const a = before.split("\n").map((l) => l.trim());
  const b = after.split("\n").map((l) => l.trim());
  const inA = new Set(a);
  const inB = new Set(b);
  const removed = a.filter((l) => l !== "" && !inB.has(l)).map((l) => `- ${redact(l, secrets)}`);
  const added = b.filter((l) => l !== "" && !inA.has(l)).map((l) => `+ ${redact(l, secrets)}`);
  const all = [...removed, ...added];
  return all.length > MAX_DIFF_LINES ? [...all.slice(0, MAX_DIFF_LINES), `… ${all.length - MAX_DIFF_LINES} more`] : all;
}

function applyHint(mgr: ServiceManager, cli: string): string {
  return mgr.kind === "systemd" ? `${cli} gateway restart` : `${cli} gateway stop && ${cli} gateway start`;
}

/** Audits the installed definition; rewrites it when allowed. */
export async function checkService(ctx: DoctorContext): Promise<DoctorCheck> {
  let mgr: ServiceManager;
  try {
    mgr = createServiceManager({ env: ctx.env, homedir: ctx.homedir });
  } catch (err) {
    return { id: "service", status: "ok", message: `service audit skipped: ${(err as Error).message}` };
  }
  const text = await mgr.readDefinition();
  if (text === null) return { id: "service", status: "ok", message: `no ${mgr.kindText} installed (optional: ${ctx.cli} gateway install)` };
  let port: number | undefined;
  let token: string | undefined;
  const exposed: string[] = [];
  try {
    const installed = mgr.parse(text);
    port = portFromProgramArguments(installed.programArguments);
    token = (await mgr.loadEnvironment(installed)).CLAWDBOT_GATEWAY_TOKEN;
    if (token !== undefined) {
      for (const f of mgr.secretFiles(installed)) {
        const st = await fsp.stat(f).catch(() => undefined);
        if (st !== undefined && (st.mode & 0o077) !== 0) exposed.push(`${f} holds the gateway token with mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}`);
      }
    }
  } catch (err) {
    return { id: "service", status: "warn", message: `cannot read ${mgr.definitionPath}: ${(err as Error).message}`, fix: `${ctx.cli} gateway install --force` };
  }
  const { spec } = await resolveInstallSpec(mgr, { env: ctx.env, homedir: ctx.homedir, version: ctx.version, port: port === undefined ? undefined : String(port), token });
  const expected = mgr.render(spec);
  if (expected === text && exposed.length === 0) return { id: "service", status: "ok", message: `${mgr.definitionPath} matches current defaults` };
  const diff = [...exposed, ...summarizeDiff(text, expected, token === undefined ? [] : [token])].join("; ");
  const drift = expected === text ? `${diff} (readable by other users)` : `${mgr.definitionPath} differs from current defaults (${diff})`;
  const fix = `${ctx.cli} doctor --fix (or ${ctx.cli} gateway install --force)`;
  if (!ctx.fix && !(await ctx.confirm(`${drift}\nRewrite ${mgr.definitionPath} now?`))) return { id: "service", status: "warn", message: drift, fix };
  await mgr.writeDefinition(expected, spec);
  try {
    await mgr.reloadDefinition();
  } catch (err) {
    return { id: "service", status: "warn", message: `rewrote ${mgr.definitionPath} but could not reload it: ${(err as Error).message}`, fix: applyHint(mgr, ctx.cli), fixed: true };
  }
  return { id: "service", status: "ok", message: `rewrote ${mgr.definitionPath} with current defaults (${diff}); apply with: ${applyHint(mgr, ctx.cli)}`, fixed: true };
}
