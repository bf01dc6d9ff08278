/** Human-readable rendering of `gateway status` and of lifecycle results. */
import { formatClusterLines } from "../commands/cluster-summary.js";
import type { LifecycleResult } from "./service-lifecycle.js";
import type { GatewayStatusReport } from "./service-status.js";

function quoteArg(a: string): string {
  return /[\s"'\\$]/.test(a) ? JSON.stringify(a) : a;
}

function runtimeLine(r: GatewayStatusReport["service"]["runtime"]): string {
  const parts: string[] = [];
  if (r.state !== undefined) parts.push(r.subState !== undefined ? `${r.state}/${r.subState}` : r.state);
  if (r.pid !== undefined) parts.push(`pid ${r.pid}`);
  if (r.lastExitStatus !== undefined) parts.push(`last exit ${r.lastExitStatus}`);
  if (r.missingUnit === true) parts.push("unknown to the supervisor");
  if (r.detail !== undefined) parts.push(r.detail);
  return `${r.status}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/** The `gateway status` text. */
export function formatStatusReport(r: GatewayStatusReport): string[] {
  const s = r.service;
  const kind = s.manager === "systemd" ? "systemd user unit" : "LaunchAgent";
  const lines: string[] = [];
  if (s.installed) {
    const load = s.loaded ? s.loadedText : s.runtime.status === "unknown" ? "supervisor unreachable" : s.notLoadedText;
    lines.push(`Service: ${s.label} (${kind}, ${load})`);
    if (s.command) {
      lines.push(`  File: ${s.command.sourcePath}`);
      lines.push(`  Command: ${s.command.programArguments.map(quoteArg).join(" ")}`);
    }
  } else {
    lines.push(`Service: ${s.label} (${kind}) not installed — run \`clawdbot gateway install\``);
  }
  lines.push(`  Runtime: ${runtimeLine(s.runtime)}`);
  const cfg = (label: string, c: NonNullable<GatewayStatusReport["config"]["daemon"]>): void => {
    lines.push(`Config (${label}): ${c.path} (${!c.exists ? "missing" : c.valid ? "valid" : "INVALID"})`);
    for (const i of c.issues ?? []) lines.push(`  ${i.path || "<root>"}: ${i.message}`);
  };
  cfg("cli", r.config.cli);
  if (r.config.daemon) {
    cfg("service", r.config.daemon);
    lines.push("  note: the service uses a different config file than this CLI (profile or CLAWDBOT_CONFIG_PATH mismatch)");
  }
  const g = r.gateway;
  lines.push(`Gateway: bind=${g.bindMode} (${g.bindHost}), port=${g.port} (${g.portSource})`);
  lines.push(`Probe target: ${g.probeUrl}${g.probeNote ? ` — ${g.probeNote}` : ""}`);
  lines.push(`Port ${r.port.port}: ${r.port.status}${r.port.listeners.length ? ` by ${r.port.listeners.join(", ")}` : ""}`);
  if (r.rpc) lines.push(r.rpc.ok ? `RPC probe: ok (${r.rpc.url})` : `RPC probe: failed — ${r.rpc.error ?? "unknown error"}`);
  else lines.push("RPC probe: skipped (--no-probe)");
  if (r.rpc?.cluster) lines.push(...formatClusterLines(r.rpc.cluster));
  if (r.lastError !== undefined) lines.push(`Last gateway error: ${r.lastError}`);
  for (const h of r.port.hints) lines.push(`hint: ${h}`);
  for (const e of r.extraServices) {
    lines.push(e.clawdbot ? `Other clawdbot profile service: ${e.label} (${e.scope}) ${e.detail}` : `warning: other gateway-like service ${e.label} (${e.scope}) ${e.detail}; one gateway per machine is recommended`);
  }
  return lines;
}

/** The text of a lifecycle result (stdout lines, stderr lines). */
export function formatLifecycleResult(r: LifecycleResult): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  if (r.ok && r.message !== undefined) out.push(r.message);
  if (!r.ok) err.push(`gateway ${r.action} failed: ${r.error ?? "unknown error"}`);
  for (const w of r.warnings ?? []) err.push(`warning: ${w}`);
  for (const h of r.hints ?? []) err.push(`hint: ${h}`);
  if (r.ok && r.service) out.push(`${r.service.label}: ${r.service.loaded ? r.service.loadedText : r.service.notLoadedText}`);
  return { out, err };
}
