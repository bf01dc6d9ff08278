/**
 * Resolved `hooks` settings (§7.2) and their start-up checks: a token is required when
 * hooks are enabled, the base path cannot be `/`, trailing slashes are removed.
 */
import { GatewayError } from "../../shared/errors.js";
import type { HookMappingConfig, HooksConfig } from "../../shared/config/schema/hooks.js";

/** Default `hooks.path`. */
export const DEFAULT_HOOKS_PATH = "/hooks";
/** Default `hooks.maxBodyBytes` (§7.2, §13). */
export const DEFAULT_HOOKS_MAX_BODY_BYTES = 262_144;

/** What the hooks module reads (live, from `GatewayOptions.hooks`). */
export interface ResolvedHooks {
  enabled: boolean;
  /** The hook token (never the gateway token; see the start-up warning). Empty when disabled. */
  token: string;
  /** Base path without trailing slash. Default `/hooks`. */
  path: string;
  /** Largest body read. Default 262144. */
  maxBodyBytes: number;
  /** Presets (`gmail`) matched after the explicit mappings. */
  presets: string[];
  /** Explicit mappings, matched first. */
  mappings: HookMappingConfig[];
  /** Directory transform modules are resolved against (absolute). Default `<stateDir>/hooks/transforms`. */
  transformsDir: string | undefined;
}

/** `hooks` disabled. */
export const HOOKS_DISABLED: ResolvedHooks = { enabled: false, token: "", path: DEFAULT_HOOKS_PATH, maxBodyBytes: DEFAULT_HOOKS_MAX_BODY_BYTES, presets: [], mappings: [], transformsDir: undefined };

/** Resolves `hooks` from the config; throws `GW_ERR_CONFIG_INVALID` when enabled without a token or at `/`. */
export function resolveHooksConfig(raw: HooksConfig | undefined): ResolvedHooks {
  if (raw === undefined || raw.enabled !== true) return HOOKS_DISABLED;
  const token = raw.token?.trim() ?? "";
  if (token === "") throw new GatewayError("GW_ERR_CONFIG_INVALID", "hooks.enabled requires hooks.token", { key: "hooks.token" });
  const path = (raw.path ?? DEFAULT_HOOKS_PATH).trim().replace(/\/+$/, "");
  if (path === "" || !path.startsWith("/")) {
    throw new GatewayError("GW_ERR_CONFIG_INVALID", `hooks.path must start with "/" and cannot be "/" (got ${JSON.stringify(raw.path)})`, { key: "hooks.path" });
  }
  return {
    enabled: true,
    token,
    path,
    maxBodyBytes: raw.maxBodyBytes ?? DEFAULT_HOOKS_MAX_BODY_BYTES,
    presets: [...(raw.presets ?? [])],
    mappings: [...(raw.mappings ?? [])],
    transformsDir: raw.transformsDir,
  };
}
