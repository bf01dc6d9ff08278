/**
 * Which shared secrets the gateway refuses to start with: placeholders copied from
 * examples (`changeme`, `change-me`, `your-token-here`, `<token>`, `${…}`, `xxxx`) and
 * anything shorter than `MIN_GATEWAY_SECRET_LENGTH`. Shared by the gateway (exit 78) and
 * `clawdbot doctor` (which additionally warns below its stricter "strong" bar).
 */

/**
 * Shortest shared secret (token or password) the gateway accepts, in characters after
 * trimming. 16 characters keep a typed passphrase possible while refusing one-word and
 * one-letter secrets; generated tokens are 64 hex characters.
 */
export const MIN_GATEWAY_SECRET_LENGTH = 16;

// Matched against the trimmed, lower-cased value.
const PLACEHOLDER_RE =
  /^(?:|undefined|null|none|change[-_ .]?me.*|changethis|token|secret|password|passw0rd|pass|test|example|default|admin|placeholder|(?:your|my)[-_ .]?(?:gateway[-_ .]?)?(?:token|secret|password|pass)(?:[-_ .]?here)?|(?:token|secret|password)[-_ .]?here|x+|\*+|\.+|<.*>|\[.*\]|\{.*\}|\$\{.*\}|\$[a-z_][a-z0-9_]*)$/;

/** True for values that are obviously example text, not secrets. */
export function isPlaceholderSecretValue(value: string): boolean {
  return PLACEHOLDER_RE.test(value.trim().toLowerCase());
}

/**
 * Why the gateway must not use `value` as its shared secret, or undefined when it may.
 * The text completes "<source> …" and never contains the secret.
 */
export function gatewaySecretProblem(value: string): string | undefined {
  const s = value.trim();
  if (isPlaceholderSecretValue(s)) return "is a placeholder, not a secret";
  if (s.length < MIN_GATEWAY_SECRET_LENGTH) return `is too short (${s.length} characters; at least ${MIN_GATEWAY_SECRET_LENGTH} required)`;
  return undefined;
}
