/**
 * Defaults materialised into the loaded config.
 *
 * Only constants whose absence means "use the default" are filled in. Keys whose
 * absence carries meaning stay unset and are resolved by their owners:
 * `gateway.port` / `gateway.bind` (ports.ts reports where the port came from),
 * `gateway.auth.mode` (inferred from the secrets, gateway-auth.ts), `gateway.mode`
 * (unset = "not configured"), `canvasHost.root` (home-relative).
 */
import type { ClawdbotConfig } from "./schema/index.js";
import type { CanvasHostConfig } from "./schema/canvas-host.js";
import type { CommandsResolved } from "./schema/commands.js";
import type { GatewayResolved } from "./schema/gateway.js";
import type { LoggingResolved } from "./schema/logging.js";

// Type-only imports from the schema files: the defaults are read on every start, the
// TypeBox schema only when a config file fails its precompiled check (validate.ts).

/** Config after `applyConfigDefaults`: the defaulted keys are guaranteed present. */
export type ResolvedConfig = Omit<ClawdbotConfig, "gateway" | "canvasHost" | "logging" | "commands"> & {
  gateway: GatewayResolved;
  canvasHost: CanvasHostConfig & { enabled: boolean; liveReload: boolean };
  logging: LoggingResolved;
  commands: CommandsResolved;
};

/** Default WS frame limit (bytes), advertised as `hello-ok.policy.maxPayload`. */
export const DEFAULT_MAX_PAYLOAD = 524288;
/** Default per-socket send buffer limit (bytes). */
export const DEFAULT_MAX_BUFFERED_BYTES = 1572864;
/** Default `tick` interval (ms). */
export const DEFAULT_TICK_INTERVAL_MS = 30000;
/** Default log file size limit before rotation (10 MiB). */
export const DEFAULT_LOG_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Default number of rotated log files kept. */
export const DEFAULT_LOG_MAX_FILES = 5;

/** The defaults, as a (partial) config tree. */
export const CONFIG_DEFAULTS = {
  gateway: {
    reload: { mode: "hybrid", debounceMs: 300 },
    policy: {
      maxPayload: DEFAULT_MAX_PAYLOAD,
      maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
      tickIntervalMs: DEFAULT_TICK_INTERVAL_MS,
    },
    preAuth: { maxPerIp: 1024, maxTotal: 4096, handshakeTimeoutMs: 10_000 },
    presence: { maxEntries: 200 },
    controlUi: { enabled: true, basePath: "", allowInsecureAuth: false, allowedOrigins: [] },
    trustedProxies: [],
  },
  canvasHost: { enabled: true, liveReload: true },
  logging: {
    level: "info",
    maxFileBytes: DEFAULT_LOG_MAX_FILE_BYTES,
    maxFiles: DEFAULT_LOG_MAX_FILES,
    redactSensitive: "tools",
    redactPatterns: [],
  },
  commands: { restart: false },
} as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Fills `defaults` under `value`: value wins; objects recurse; arrays are copied. */
function fill(defaults: unknown, value: unknown): unknown {
  if (value === undefined) {
    return Array.isArray(defaults) ? [...defaults] : isPlainObject(defaults) ? fill(defaults, {}) : defaults;
  }
  if (!isPlainObject(defaults) || !isPlainObject(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [k, d] of Object.entries(defaults)) out[k] = fill(d, value[k]);
  return out;
}

/**
 * Returns a copy of a *validated* config with the defaults above filled in. Pure; the
 * input is not modified.
 */
export function applyConfigDefaults(config: ClawdbotConfig): ResolvedConfig {
  return fill(CONFIG_DEFAULTS, config) as ResolvedConfig;
}
