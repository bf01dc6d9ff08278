/** Version reported by the CLI and, unless CLAWDBOT_VERSION is set, by the gateway. */
export const CLI_VERSION = "2026.1.24";
