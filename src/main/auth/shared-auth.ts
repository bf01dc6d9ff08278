/**
 * Shared gateway auth (token / password), protocol reference §2.6 and §8.2.
 *
 * Startup: `resolveAuthConfig` merges CLI overrides > `gateway.auth` > env, infers the mode and
 * refuses unsafe setups. Per connection: `authorizeShared` checks `connect.params.auth` and
 * `authFailureMessage` words the failure for the kind of client. Tailscale identity auth is not
 * supported (no tailnet here): `allowTailscale` is never inferred and its reasons never occur.
 * The device-token fallback (§2.6 step 6) lives in the device pairing store.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { GatewayError } from "../../shared/errors.js";
import { isLoopbackAddress } from "./client-ip.js";

/** Shared auth mode. */
export type AuthMode = "none" | "token" | "password";

/** Shared auth as resolved at startup. */
export interface ResolvedAuth {
  mode: AuthMode;
  token?: string;
  password?: string;
}

/** `gateway.auth` (or CLI overrides) as written by the operator. */
export interface AuthConfigInput {
  mode?: string;
  token?: string;
  password?: string;
}

/** Inputs of `resolveAuthConfig`. */
export interface ResolveAuthParams {
  /** `gateway.auth` from the config file. Default `{}`. */
  configAuth?: AuthConfigInput;
  /** Environment for `CLAWDBOT_GATEWAY_TOKEN` / `CLAWDBOT_GATEWAY_PASSWORD`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** `--auth`/`--token`/`--password` style overrides; win over config. Default `{}`. */
  cliOverrides?: AuthConfigInput;
  /** `gateway.bind` mode (`loopback`, `lan`, `tailnet`, `auto`, `custom`) or a host/IP. Only `loopback`, `localhost` and loopback IPs count as loopback. */
  bind: string;
}

const PLACEHOLDER_SECRETS = new Set(["undefined", "null", "", "changeme"]);

/** True for secrets that are obviously not secrets: `undefined`, `null`, empty, `changeme` (trimmed, any case). */
export function isPlaceholderSecret(value: string): boolean {
  return PLACEHOLDER_SECRETS.has(value.trim().toLowerCase());
}

/** True when a bind mode/host keeps the gateway on this machine. */
export function isLoopbackBind(bind: string): boolean {
  const b = bind.trim().toLowerCase();
  return b === "loopback" || b === "localhost" || isLoopbackAddress(b);
}

function pick(sources: [string, string | undefined][]): { value: string; source: string } | undefined {
  for (const [source, value] of sources) if (value !== undefined) return { value, source };
  return undefined;
}

function configError(message: string, reason: string): GatewayError {
  return new GatewayError("GW_ERR_AUTH_CONFIG", message, { reason });
}

/**
 * Resolves shared auth at startup (§2.6): `token = cli ?? gateway.auth.token ?? $CLAWDBOT_GATEWAY_TOKEN`
 * (password likewise), `mode = explicit ?? (password ? "password" : token ? "token" : "none")`.
 * Throws `GW_ERR_AUTH_CONFIG` with an operator-facing message when the mode lacks its secret,
 * the secret in use is a placeholder, the mode is unknown, or a non-loopback bind has no auth.
 */
export function resolveAuthConfig(p: ResolveAuthParams): ResolvedAuth {
  const cfg = p.configAuth ?? {};
  const cli = p.cliOverrides ?? {};
  const env = p.env ?? process.env;
  const token = pick([["--token", cli.token], ["gateway.auth.token", cfg.token], ["CLAWDBOT_GATEWAY_TOKEN", env.CLAWDBOT_GATEWAY_TOKEN]]);
  const password = pick([
    ["--password", cli.password],
    ["gateway.auth.password", cfg.password],
    ["CLAWDBOT_GATEWAY_PASSWORD", env.CLAWDBOT_GATEWAY_PASSWORD],
  ]);
  const explicit = cli.mode ?? cfg.mode;
  if (explicit !== undefined && explicit !== "none" && explicit !== "token" && explicit !== "password") {
    throw configError(`gateway.auth.mode must be "token", "password" or "none" (got ${JSON.stringify(explicit)})`, "mode_invalid");
  }
  // A set-but-placeholder secret still selects its mode, so it is refused below instead of
  // silently falling back to an unauthenticated gateway.
  const mode: AuthMode = explicit ?? (password !== undefined ? "password" : token !== undefined ? "token" : "none");
  const used = mode === "token" ? token : mode === "password" ? password : undefined;
  if (mode !== "none" && used === undefined) {
    const [key, envName] = mode === "token" ? ["token", "CLAWDBOT_GATEWAY_TOKEN"] : ["password", "CLAWDBOT_GATEWAY_PASSWORD"];
    throw configError(`gateway auth mode is "${mode}" but no ${key} is set: set gateway.auth.${key} or ${envName}`, `${key}_missing_config`);
  }
  if (used !== undefined && isPlaceholderSecret(used.value)) {
    throw configError(
      `${used.source} is a placeholder (${JSON.stringify(used.value.trim())}), not a secret: set a real ${mode} (e.g. the output of \`openssl rand -hex 32\`)`,
      "placeholder_secret",
    );
  }
  if (mode === "none" && !isLoopbackBind(p.bind)) {
    throw configError(
      `Refusing to bind gateway to ${p.bind} without auth. Set gateway.auth.token (or CLAWDBOT_GATEWAY_TOKEN) or gateway.auth.password, or bind to loopback.`,
      "bind_without_auth",
    );
  }
  const out: ResolvedAuth = { mode };
  if (mode === "token" && used !== undefined) out.token = used.value;
  if (mode === "password" && used !== undefined) out.password = used.value;
  primeSecretMac(out.token ?? out.password);
  return out;
}

// Per-process key: both sides are MACed so the compare always runs over two 32-byte digests,
// whatever the inputs' lengths (no length leak, no early exit). UTF-16 code units are hashed,
// which is lossless for every JS string (UTF-8 would merge lone surrogates into U+FFFD).
const COMPARE_KEY = randomBytes(32);

/**
 * Constant-time secret comparison of a supplied value `a` against the configured secret `b`.
 * Never throws; false for non-strings, and an empty string never matches anything (a blank
 * secret must not authorise a blank credential).
 */
export function safeEqualSecret(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string" || a.length === 0 || b.length === 0) return false;
  return timingSafeEqual(mac(a), configuredMac(b));
}

// The configured secret (`b`) is the same on every handshake, so its MAC is kept. Only
// `b` is looked up: comparing the client-supplied `a` with `===` would leak timing.
let lastSecret = "";
let lastMac: Buffer = Buffer.alloc(32);

function mac(s: string): Buffer {
  return createHmac("sha256", COMPARE_KEY).update(s, "utf16le").digest();
}

function configuredMac(b: string): Buffer {
  if (b === lastSecret) return lastMac;
  return mac(b);
}

/** Remembers the MAC of the configured secret (call when auth is resolved). */
export function primeSecretMac(secret: string | undefined): void {
  if (!secret) return;
  lastSecret = secret;
  lastMac = mac(secret);
}

/** Who is connecting, for auth hints. */
export type AuthClientKind = "cli" | "control-ui" | "webchat" | "other";

/** §2.2: CLI ⇔ mode `cli`; Control UI ⇔ id `clawdbot-control-ui`; webchat ⇔ mode `webchat` or id `webchat-ui`. */
export function classifyAuthClient(client: { id?: unknown; mode?: unknown } | undefined): AuthClientKind {
  if (client?.mode === "cli") return "cli";
  if (client?.id === "clawdbot-control-ui") return "control-ui";
  if (client?.mode === "webchat" || client?.id === "webchat-ui") return "webchat";
  return "other";
}

/** Reasons shared auth can fail. */
export type SharedAuthFailure =
  | "token_missing"
  | "token_mismatch"
  | "token_missing_config"
  | "password_missing"
  | "password_mismatch"
  | "password_missing_config";

/** Outcome of `authorizeShared`. */
export type SharedAuthResult =
  | { ok: true; method: AuthMode }
  | { ok: false; reason: SharedAuthFailure; message: string };

/** `connect.params.auth` as received. */
export interface ConnectAuth {
  token?: unknown;
  password?: unknown;
}

const supplied = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * §2.6 steps 3–5 against the resolved shared auth. On failure the message is already worded for
 * `clientKind` (default `other`). Callers try the device-token fallback (step 6) on failure.
 */
export function authorizeShared(p: { auth: ResolvedAuth; connectAuth?: ConnectAuth | null; clientKind?: AuthClientKind }): SharedAuthResult {
  const fail = (reason: SharedAuthFailure): SharedAuthResult => ({ ok: false, reason, message: authFailureMessage(reason, p.clientKind ?? "other") });
  const given = p.connectAuth ?? {};
  switch (p.auth.mode) {
    case "none":
      return { ok: true, method: "none" };
    case "token":
      if (!supplied(p.auth.token)) return fail("token_missing_config");
      if (!supplied(given.token)) return fail("token_missing");
      return safeEqualSecret(given.token, p.auth.token) ? { ok: true, method: "token" } : fail("token_mismatch");
    case "password":
      if (!supplied(p.auth.password)) return fail("password_missing_config");
      if (!supplied(given.password)) return fail("password_missing");
      return safeEqualSecret(given.password, p.auth.password) ? { ok: true, method: "password" } : fail("password_mismatch");
  }
}

/** The §2.6 failure message for a reason, with the hint for the kind of client; unknown reasons → `unauthorized`. */
export function authFailureMessage(reason: string | undefined, clientKind: AuthClientKind): string {
  const ui = clientKind === "control-ui" || clientKind === "webchat";
  const tokenHint =
    clientKind === "cli"
      ? "set gateway.remote.token to match gateway.auth.token"
      : ui
        ? "open a tokenized dashboard URL or paste token in Control UI settings"
        : "provide gateway auth token";
  const passwordHint =
    clientKind === "cli"
      ? "set gateway.remote.password to match gateway.auth.password"
      : ui
        ? "enter the password in Control UI settings"
        : "provide gateway auth password";
  switch (reason) {
    case "token_missing":
      return `unauthorized: gateway token missing (${tokenHint})`;
    case "token_mismatch":
      return `unauthorized: gateway token mismatch (${tokenHint})`;
    case "token_missing_config":
      return "unauthorized: gateway token not configured on gateway (set gateway.auth.token)";
    case "password_missing":
      return `unauthorized: gateway password missing (${passwordHint})`;
    case "password_mismatch":
      return `unauthorized: gateway password mismatch (${passwordHint})`;
    case "password_missing_config":
      return "unauthorized: gateway password not configured on gateway (set gateway.auth.password)";
    default:
      return "unauthorized";
  }
}
