/**
 * What a config change means for a running gateway (§8.4).
 *
 * `diffConfigPaths` turns old vs new config into dotted leaf paths; each path is
 * classified by the first rule in `RELOAD_RULES` whose prefix equals it or is a dotted
 * parent of it; `decideReload` turns the classification into an action per
 * `gateway.reload.mode`. The table is documented in docs/config.md — keep both in sync.
 */
import type { ReloadMode } from "./schema/index.js";

/** How a change can be applied. */
export type ReloadKind = "hot" | "restart" | "none";

/** A hot action the lifecycle must run to apply a change without restarting. */
export type HotAction =
  | { type: "apply-gateway-auth" }
  | { type: "apply-gateway-policy" }
  | { type: "apply-control-ui-origins" }
  | { type: "reload-hooks" }
  | { type: "restart-gmail-watcher" }
  | { type: "restart-heartbeat" }
  | { type: "restart-cron" }
  | { type: "restart-browser-control" }
  | { type: "restart-channel"; channel: string };

/** One row of the classification table. */
export interface ReloadRule {
  prefix: string;
  kind: ReloadKind;
  /** Hot actions, for `kind: "hot"`; a function when they depend on the path. */
  actions?: HotAction[] | ((path: string) => HotAction[]);
}

const channelFromPath = (path: string): HotAction[] => {
  const id = path.split(".")[1];
  return id === undefined ? [] : [{ type: "restart-channel", channel: id }];
};

/** Channel ids whose config lives under `channels.<id>` and restart on change. */
const CHANNEL_PREFIX = "channels.";

/**
 * The classification table, first match wins. clawgate additions over clawdbot:
 * `gateway.auth`, `gateway.policy` and `gateway.controlUi.allowedOrigins` are hot
 * because the handshake / upgrade path read the live config.
 */
export const RELOAD_RULES: readonly ReloadRule[] = [
  { prefix: "gateway.remote", kind: "none" },
  { prefix: "gateway.reload", kind: "none" },
  { prefix: "gateway.auth", kind: "hot", actions: [{ type: "apply-gateway-auth" }] },
  { prefix: "gateway.policy", kind: "hot", actions: [{ type: "apply-gateway-policy" }] },
  { prefix: "gateway.controlUi.allowedOrigins", kind: "hot", actions: [{ type: "apply-control-ui-origins" }] },
  { prefix: "hooks.gmail", kind: "hot", actions: [{ type: "restart-gmail-watcher" }, { type: "reload-hooks" }] },
  { prefix: "hooks", kind: "hot", actions: [{ type: "reload-hooks" }] },
  { prefix: "agents.defaults.heartbeat", kind: "hot", actions: [{ type: "restart-heartbeat" }] },
  { prefix: "agent.heartbeat", kind: "hot", actions: [{ type: "restart-heartbeat" }] },
  { prefix: "cron", kind: "hot", actions: [{ type: "restart-cron" }] },
  { prefix: "browser", kind: "hot", actions: [{ type: "restart-browser-control" }] },
  { prefix: "web", kind: "hot", actions: [{ type: "restart-channel", channel: "whatsapp" }] },
  { prefix: "channels.whatsapp", kind: "none" },
  { prefix: "channels.defaults", kind: "restart" },
  { prefix: "channels.*", kind: "hot", actions: channelFromPath },
  ...[
    "identity",
    "wizard",
    "logging",
    "models",
    "agents",
    "tools",
    "bindings",
    "audio",
    "agent",
    "routing",
    "messages",
    "session",
    "talk",
    "skills",
    "ui",
    "meta",
  ].map((prefix): ReloadRule => ({ prefix, kind: "none" })),
  { prefix: "plugins", kind: "restart" },
  { prefix: "gateway", kind: "restart" },
  { prefix: "discovery", kind: "restart" },
  { prefix: "canvasHost", kind: "restart" },
];

function matches(prefix: string, path: string): boolean {
  if (prefix === "channels.*") return path.startsWith(CHANNEL_PREFIX) && path.length > CHANNEL_PREFIX.length;
  return path === prefix || path.startsWith(`${prefix}.`);
}

/** A classified changed path. */
export interface ClassifiedPath {
  path: string;
  kind: ReloadKind;
  actions: HotAction[];
  /** The matching rule's prefix; `"*"` when nothing matched (→ restart). */
  rule: string;
}

/** Classifies one dotted path by the first matching rule; unmatched paths need a restart. */
export function classifyConfigPath(path: string): ClassifiedPath {
  for (const rule of RELOAD_RULES) {
    if (!matches(rule.prefix, path)) continue;
    const actions = typeof rule.actions === "function" ? rule.actions(path) : [...(rule.actions ?? [])];
    return { path, kind: rule.kind, actions, rule: rule.prefix };
  }
  return { path, kind: "restart", actions: [], rule: "*" };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sameArray(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((v, i) => JSON.stringify(v) === JSON.stringify(b[i]));
}

/**
 * Dotted leaf paths that differ between `prev` and `next`. Objects recurse over the
 * union of their keys; arrays are compared element-wise and any difference reports the
 * whole array path; a value that changes kind (object ↔ scalar, missing ↔ present)
 * reports its own path.
 */
export function diffConfigPaths(prev: unknown, next: unknown, base = ""): string[] {
  if (isPlainObject(prev) && isPlainObject(next)) {
    const out: string[] = [];
    for (const key of new Set([...Object.keys(prev), ...Object.keys(next)])) {
      out.push(...diffConfigPaths(prev[key], next[key], base === "" ? key : `${base}.${key}`));
    }
    return out;
  }
  if (Array.isArray(prev) && Array.isArray(next)) return sameArray(prev, next) ? [] : [base];
  return Object.is(prev, next) ? [] : [base];
}

/** The classified difference between two configs. */
export interface ReloadPlan {
  changedPaths: string[];
  entries: ClassifiedPath[];
  hotPaths: string[];
  restartPaths: string[];
  nonePaths: string[];
  /** Deduplicated hot actions of all hot paths, in table order of first appearance. */
  hotActions: HotAction[];
  /** True when at least one path needs a restart. */
  restartRequired: boolean;
}

/** Diffs and classifies two configs. */
export function planReload(prev: unknown, next: unknown): ReloadPlan {
  const changedPaths = diffConfigPaths(prev, next);
  const entries = changedPaths.map(classifyConfigPath);
  const hotActions: HotAction[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    for (const a of e.actions) {
      const key = JSON.stringify(a);
      if (!seen.has(key)) {
        seen.add(key);
        hotActions.push(a);
      }
    }
  }
  const pick = (kind: ReloadKind): string[] => entries.filter((e) => e.kind === kind).map((e) => e.path);
  const restartPaths = pick("restart");
  return {
    changedPaths,
    entries,
    hotPaths: pick("hot"),
    restartPaths,
    nonePaths: pick("none"),
    hotActions,
    restartRequired: restartPaths.length > 0,
  };
}

/** What the lifecycle should do about a plan. */
export interface ReloadDecision {
  mode: ReloadMode;
  /**
   * `noop` nothing changed · `ignore` mode off · `hot` swap the config and run
   * `hotActions` · `restart` in-process restart (SIGUSR1 path).
   */
  action: "noop" | "ignore" | "hot" | "restart";
  hotActions: HotAction[];
  /** Mode `hot` only: changes that need a restart and were NOT applied (log an error). */
  skippedRestartPaths: string[];
  /** One line for the log. */
  reason: string;
}

/**
 * Decides per mode (take the mode from the *new* config): `off` ignores changes;
 * `restart` restarts on any change; `hot` applies hot actions and skips (reports)
 * restart-requiring paths; `hybrid` (default) restarts when any path requires it,
 * otherwise applies hot.
 */
export function decideReload(plan: ReloadPlan, mode: ReloadMode = "hybrid"): ReloadDecision {
  const base = { mode, hotActions: [] as HotAction[], skippedRestartPaths: [] as string[] };
  if (plan.changedPaths.length === 0) return { ...base, action: "noop", reason: "config unchanged" };
  const list = (paths: string[]): string => paths.join(", ");
  switch (mode) {
    case "off":
      return { ...base, action: "ignore", reason: `config reload disabled (gateway.reload.mode="off"); changed: ${list(plan.changedPaths)}` };
    case "restart":
      return { ...base, action: "restart", reason: `gateway.reload.mode="restart"; changed: ${list(plan.changedPaths)}` };
    case "hot":
      return {
        ...base,
        action: "hot",
        hotActions: plan.hotActions,
        skippedRestartPaths: plan.restartPaths,
        reason:
          plan.restartRequired
            ? `changes need a gateway restart and were not applied (gateway.reload.mode="hot"): ${list(plan.restartPaths)}; restart the gateway or use mode "hybrid"`
            : `hot reload: ${list(plan.changedPaths)}`,
      };
    case "hybrid":
      return plan.restartRequired
        ? { ...base, action: "restart", reason: `restart required by: ${list(plan.restartPaths)}` }
        : { ...base, action: "hot", hotActions: plan.hotActions, reason: `hot reload: ${list(plan.changedPaths)}` };
  }
}
