/** Process exit codes of `clawdbot gateway`. */
export const EXIT_OK = 0;
/** Fatal runtime error: the supervisor restarts us. */
export const EXIT_FAILURE = 1;
/** EX_CONFIG: the configuration is wrong; systemd's RestartPreventExitStatus=78 stops the loop. */
export const EXIT_CONFIG = 78;

// GW_ERR_UNSAFE_DIR: a lock/log directory in /tmp that is not ours (private-dir.ts).
const CONFIG_CODES = new Set(["GW_ERR_CONFIG_INVALID", "GW_ERR_CONFIG_PARSE", "GW_ERR_CONFIG_ENV_MISSING", "GW_ERR_CONFIG_INCLUDE", "GW_ERR_AUTH_CONFIG", "GW_ERR_UNSAFE_DIR"]);

/**
 * 78 for errors a restart cannot fix (configuration, an unsafe directory, another live
 * gateway holding the lock — marked `permanent`), 1 for anything else.
 */
export function exitCodeFor(err: unknown): number {
  const e = err as { code?: unknown; permanent?: unknown } | null;
  if (e?.permanent === true) return EXIT_CONFIG;
  return typeof e?.code === "string" && CONFIG_CODES.has(e.code) ? EXIT_CONFIG : EXIT_FAILURE;
}
