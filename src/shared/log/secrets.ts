/**
 * The live secret values the log scrubber must know about: gathered from the loaded
 * config and the environment, and re-gathered on every config reload so a rotated
 * token is scrubbed from the first line after the change.
 */
import type { ClawdbotConfig } from "../config/schema/index.js";

/** Environment variables whose values are secrets (§8.5). */
export const SECRET_ENV_VARS: readonly string[] = [
  "CLAWDBOT_GATEWAY_TOKEN",
  "CLAWDBOT_GATEWAY_PASSWORD",
  "CLAWDBOT_BROWSER_CONTROL_TOKEN",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "GEMINI_API_KEY",
  "OPENROUTER_API_KEY",
  "TELEGRAM_BOT_TOKEN",
  "DISCORD_BOT_TOKEN",
  "SLACK_BOT_TOKEN",
  "SLACK_APP_TOKEN",
  "ELEVENLABS_API_KEY",
];

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Secrets present in `config` (gateway auth + remote credentials, hooks token, browser
 * control token, `--token`/`--password` overrides) and in `env`. Deduplicated.
 */
export function collectConfigSecrets(
  config: ClawdbotConfig,
  env: Record<string, string | undefined> = process.env,
  extra: readonly (string | undefined)[] = [],
): string[] {
  const g = config.gateway;
  const hooks = config.hooks as { token?: unknown } | undefined;
  const values = [
    g?.auth?.token,
    g?.auth?.password,
    g?.remote?.token,
    g?.remote?.password,
    g?.token,
    str(hooks?.token),
    config.browser?.controlToken,
    ...SECRET_ENV_VARS.map((k) => env[k]),
    ...extra,
  ];
  return [...new Set(values.filter((v): v is string => typeof v === "string" && v !== ""))];
}
