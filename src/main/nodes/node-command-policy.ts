/**
 * Which commands a node may be invoked with (§2.8): a default allowlist per platform,
 * plus `gateway.nodes.allowCommands`, minus `gateway.nodes.denyCommands`.
 *
 * Allowlists are Sets computed once per (platform, node policy object) and cached: a
 * hot reload replaces `ctx.options` wholesale, so a new `nodes` object is a new cache
 * key and the old entries are collected with it.
 */

/** Platform classes of §2.8. */
export type NodePlatformId = "ios" | "android" | "macos" | "linux" | "windows" | "unknown";

const CANVAS = [
  "canvas.present",
  "canvas.hide",
  "canvas.navigate",
  "canvas.eval",
  "canvas.snapshot",
  "canvas.a2ui.push",
  "canvas.a2ui.pushJSONL",
  "canvas.a2ui.reset",
];
const CAMERA = ["camera.list", "camera.snap", "camera.clip"];
const SYSTEM = [
  "system.run",
  "system.which",
  "system.notify",
  "system.execApprovals.get",
  "system.execApprovals.set",
  "browser.proxy",
];
const IOS = [...CANVAS, ...CAMERA, "screen.record", "location.get"];

const PLATFORM_DEFAULTS: Record<NodePlatformId, readonly string[]> = {
  ios: IOS,
  android: [...IOS, "sms.send"],
  macos: [...IOS, ...SYSTEM],
  linux: SYSTEM,
  windows: SYSTEM,
  unknown: [...IOS, "sms.send", ...SYSTEM],
};

/** The node policy part of the options (`gateway.nodes`). */
export interface NodeCommandOptions {
  allowCommands: readonly string[];
  denyCommands: readonly string[];
}

/**
 * Platform class from `client.platform` (prefix match), falling back to
 * `client.deviceFamily` (substring match).
 */
export function nodePlatformId(platform: string | undefined, deviceFamily: string | undefined): NodePlatformId {
  const raw = (platform ?? "").trim().toLowerCase();
  if (raw.startsWith("ios") || raw.startsWith("ipados")) return "ios";
  if (raw.startsWith("android")) return "android";
  if (raw.startsWith("mac") || raw.startsWith("darwin")) return "macos";
  if (raw.startsWith("linux")) return "linux";
  if (raw.startsWith("win")) return "windows";
  const family = (deviceFamily ?? "").trim().toLowerCase();
  if (family.includes("iphone") || family.includes("ipad") || family.includes("ios")) return "ios";
  if (family.includes("android")) return "android";
  if (family.includes("mac")) return "macos";
  if (family.includes("windows")) return "windows";
  if (family.includes("linux")) return "linux";
  return "unknown";
}

const cache = new WeakMap<NodeCommandOptions, Map<NodePlatformId, ReadonlySet<string>>>();

/** The effective allowlist of a platform under `opts` (cached). */
export function commandAllowlist(platformId: NodePlatformId, opts: NodeCommandOptions): ReadonlySet<string> {
  let perPlatform = cache.get(opts);
  if (!perPlatform) {
    perPlatform = new Map();
    cache.set(opts, perPlatform);
  }
  let set = perPlatform.get(platformId);
  if (!set) {
    const s = new Set<string>();
    for (const c of [...PLATFORM_DEFAULTS[platformId], ...opts.allowCommands]) {
      const t = c.trim();
      if (t) s.add(t);
    }
    for (const c of opts.denyCommands) s.delete(c.trim());
    set = s;
    perPlatform.set(platformId, set);
  }
  return set;
}

/** Why a command is refused (`details.reason` of `node command not allowed`). */
export type CommandRefusal = "command not allowlisted" | "node did not declare commands" | "command not declared by node";

/** §3.11 node.invoke step 3, in the reference's order. Null when allowed. */
export function refuseCommand(command: string, declared: readonly string[], allowlist: ReadonlySet<string>): CommandRefusal | null {
  if (!allowlist.has(command)) return "command not allowlisted";
  if (declared.length === 0) return "node did not declare commands";
  if (!declared.includes(command)) return "command not declared by node";
  return null;
}

/**
 * Identical declared-command lists are shared: a fleet of 15k nodes of the same app
 * declares a handful of distinct lists, so each node holds a pointer, not an array.
 * Bounded so that hostile clients cannot grow it without limit; past the bound lists
 * are simply not shared.
 */
const INTERN_MAX = 1024;
const interned = new Map<string, readonly string[]>();

/**
 * The declared commands kept for a node: trimmed, intersected with the allowlist,
 * de-duplicated and sorted (the order `node.list` reports), interned.
 */
export function filterDeclaredCommands(declared: readonly string[] | undefined, allowlist: ReadonlySet<string>): readonly string[] {
  if (!declared || declared.length === 0) return EMPTY;
  const kept = new Set<string>();
  for (const c of declared) {
    const t = c.trim();
    if (t && allowlist.has(t)) kept.add(t);
  }
  if (kept.size === 0) return EMPTY;
  const list = [...kept].sort();
  const key = list.join("\n");
  const hit = interned.get(key);
  if (hit) return hit;
  Object.freeze(list);
  if (interned.size < INTERN_MAX) interned.set(key, list);
  return list;
}

const EMPTY: readonly string[] = Object.freeze([]);
