/**
 * The method table of protocol 3 (§3.0, §3.1): every method the reference knows, its
 * scope class (used for authorisation before handler lookup, so unknown-to-us methods
 * still get the reference's scope errors) and whether `hello-ok.features.methods`
 * advertises it (only when we also implement it).
 */

export type ScopeClass = "read" | "write" | "approvals" | "pairing" | "node" | "admin";

const READ = [
  "health", "logs.tail", "channels.status", "status", "usage.status", "usage.cost", "tts.status",
  "tts.providers", "models.list", "agents.list", "agent.identity.get", "skills.status", "voicewake.get",
  "sessions.list", "sessions.preview", "cron.list", "cron.status", "cron.runs", "system-presence",
  "last-heartbeat", "node.list", "node.describe", "chat.history",
] as const;

const WRITE = [
  "send", "agent", "agent.wait", "wake", "talk.mode", "tts.enable", "tts.disable", "tts.convert",
  "tts.setProvider", "voicewake.set", "node.invoke", "chat.send", "chat.abort",
] as const;

const APPROVALS = ["exec.approval.request", "exec.approval.resolve"] as const;

const PAIRING = [
  "node.pair.request", "node.pair.list", "node.pair.approve", "node.pair.reject", "node.pair.verify",
  "device.pair.list", "device.pair.approve", "device.pair.reject", "device.token.rotate",
  "device.token.revoke", "node.rename",
] as const;

const NODE_ONLY = ["node.invoke.result", "node.event", "skills.bins"] as const;

const classes = new Map<string, ScopeClass>();
for (const m of READ) classes.set(m, "read");
for (const m of WRITE) classes.set(m, "write");
for (const m of APPROVALS) classes.set(m, "approvals");
for (const m of PAIRING) classes.set(m, "pairing");
for (const m of NODE_ONLY) classes.set(m, "node");

/** Scope class of a method; anything not listed (config.*, wizard.*, plugins, connect …) is admin. */
export function scopeClassOf(method: string): ScopeClass {
  return classes.get(method) ?? "admin";
}

/** Methods the reference never advertises although they are callable. */
export const UNADVERTISED_METHODS: ReadonlySet<string> = new Set(["chat.inject", "sessions.resolve", "poll", "connect"]);

/** `hello-ok.features.events` (§2.10). */
export const GATEWAY_EVENTS = [
  "connect.challenge", "agent", "chat", "presence", "tick", "talk.mode", "shutdown", "health", "heartbeat",
  "cron", "node.pair.requested", "node.pair.resolved", "node.invoke.request", "device.pair.requested",
  "device.pair.resolved", "voicewake.changed", "exec.approval.requested", "exec.approval.resolved",
] as const;
