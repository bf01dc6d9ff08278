/**
 * Doctor: is the gateway secret strong? Warns when it is missing, a placeholder,
 * shorter than 24 characters, or has little variety (fewer than 10 distinct
 * characters). Never prints the secret.
 */
import { generatedTokenPath, readGeneratedToken } from "../../main/lifecycle/generated-token.js";
import { isPlaceholderSecret } from "../../main/auth/shared-auth.js";
import { isPlaceholderSecretValue } from "../../shared/config/secret-strength.js";
import type { DoctorCheck, DoctorContext } from "./doctor-types.js";

/** Minimum length of a shared secret. */
export const MIN_SECRET_LENGTH = 24;
/** Minimum number of distinct characters. */
export const MIN_SECRET_VARIETY = 10;

const PLACEHOLDER_RE = /^(?:change[-_ ]?me.*|token|secret|password|passw0rd|test|example|default|admin|your[-_ ]?(?:token|secret|password).*|x+|\*+|<.*>|\$\{.*\})$/i;

/** Why `secret` is weak, or undefined when it is fine. */
export function secretWeakness(secret: string): string | undefined {
  const s = secret.trim();
  if (isPlaceholderSecret(s) || isPlaceholderSecretValue(s) || PLACEHOLDER_RE.test(s)) return "is a placeholder, not a secret";
  if (s.length < MIN_SECRET_LENGTH) return `is only ${s.length} characters long (want at least ${MIN_SECRET_LENGTH})`;
  if (new Set(s).size < MIN_SECRET_VARIETY) return `has low variety (${new Set(s).size} distinct characters)`;
  return undefined;
}

const STRONG_FIX = "set a random value, e.g. the output of `openssl rand -hex 32`";

/** Checks the secret the gateway would use (config before env, as the gateway resolves it). */
export async function checkToken(ctx: DoctorContext): Promise<DoctorCheck> {
  const auth = ctx.snap.config.gateway.auth ?? {};
  if (auth.mode === "none") {
    return { id: "token", status: "warn", message: "gateway.auth.mode is \"none\": any local process can control the gateway", fix: `set gateway.auth.mode to "token" and ${STRONG_FIX}` };
  }
  const password = auth.password ?? ctx.env.CLAWDBOT_GATEWAY_PASSWORD;
  if (auth.mode === "password" || (auth.mode === undefined && auth.token === undefined && ctx.env.CLAWDBOT_GATEWAY_TOKEN === undefined && password !== undefined)) {
    const source = auth.password !== undefined ? "gateway.auth.password" : "CLAWDBOT_GATEWAY_PASSWORD";
    if (password === undefined) return { id: "token", status: "warn", message: "gateway.auth.mode is \"password\" but no password is set", fix: `set gateway.auth.password: ${STRONG_FIX}` };
    const weak = secretWeakness(password);
    return weak ? { id: "token", status: "warn", message: `${source} ${weak}`, fix: `${source}: ${STRONG_FIX}` } : { id: "token", status: "ok", message: `${source} looks strong` };
  }
  const token = auth.token ?? ctx.env.CLAWDBOT_GATEWAY_TOKEN;
  const source = auth.token !== undefined ? "gateway.auth.token" : "CLAWDBOT_GATEWAY_TOKEN";
  if (token === undefined || token.trim() === "") {
    if ((await readGeneratedToken(ctx.stateDir)) !== undefined) {
      return { id: "token", status: "ok", message: `no token configured; the gateway uses the token it generated in ${generatedTokenPath(ctx.stateDir)}` };
    }
    return {
      id: "token",
      status: "warn",
      message: "no gateway token configured (the gateway generates one on first start)",
      fix: `${ctx.cli} setup (writes a generated token), or set gateway.auth.token: ${STRONG_FIX}`,
    };
  }
  const weak = secretWeakness(token);
  return weak ? { id: "token", status: "warn", message: `${source} ${weak}`, fix: `${source}: ${STRONG_FIX}` } : { id: "token", status: "ok", message: `${source} looks strong` };
}
