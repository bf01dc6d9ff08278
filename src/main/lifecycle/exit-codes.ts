/** Process exit codes of `clawdbot gateway`. */
export const EXIT_OK = 0;
/** Fatal runtime error: the supervisor restarts us. */
export const EXIT_FAILURE = 1;
/** EX_CONFIG: the configuration is wrong; systemd's RestartPreventExitStatus=78 stops the loop. */
export const EXIT_CONFIG = 78;

const CONFIG_CODES = new Set(["GW_ERR_CONFIG_INVALID", "GW_ERR_CONFIG_PARSE", "GW_ERR_CONFIG_ENV_MISSING", "GW_ERR_CONFIG_INCLUDE", "GW_ERR_AUTH_CONFIG"]);

/** 78 for configuration errors, 1 for anything else. */
export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && CONFIG_CODES.has(code) ? EXIT_CONFIG : EXIT_FAILURE;
}
