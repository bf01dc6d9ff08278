/**
 * Resolves `channels.<id>` config into the accounts the channels module runs (§10.1–§10.3).
 *
 *   channels.telegram = { enabled?, botToken?, tokenFile?, apiRoot?, webhookUrl?, webhookSecret?,
 *                         webhookPath?, mediaMaxMb?, mediaAllowPrivateNetwork?, dmPolicy?, allowFrom?, groupPolicy?, groupAllowFrom?,
 *                         groups?, accounts?: { <id>: { …same keys } } }
 *
 *   channels.whatsapp = { enabled?, mediaMaxMb?, mediaAllowPrivateNetwork?, dmPolicy?, allowFrom?, groupPolicy?, groupAllowFrom?, groups?,
 *                         accounts?: { <id>: { authDir?, …same keys } } }
 *
 * Account keys override the channel's; without `accounts` there is one account, `default`.
 * Telegram token: account/channel `botToken`, else `tokenFile`, else `TELEGRAM_BOT_TOKEN`
 * (default account only). Configured ⇔ a token. WhatsApp: listed when the section exists or
 * the default account has credentials (`clawdbot channels login` ran); configured ⇔ linked
 * (`<authDir>/creds.json` exists; default authDir `<stateDir>/credentials/whatsapp/<id>/`). Values of the wrong type are ignored (the
 * config schema validates the section; this must never throw on a live config).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_ACCOUNT_ID = "default";

export type DmPolicy = "pairing" | "allowlist" | "open" | "disabled";
export type GroupPolicy = "allowlist" | "open" | "disabled";

/** Who may talk to the bot (§10.2 keys, same for every channel). */
export interface AccessPolicy {
  /** Default `pairing`. */
  dmPolicy: DmPolicy;
  /** Sender ids / `@usernames` allowed in DMs (plus approved ones); `"*"` = anyone. */
  allowFrom: string[];
  /** Default `allowlist`. */
  groupPolicy: GroupPolicy;
  /** Senders allowed in groups; empty = anyone in an allowed group. */
  groupAllowFrom: string[];
  /** Allowed groups (`"*"` = any) and whether the bot must be mentioned (default true). */
  groups: Record<string, { requireMention?: boolean }>;
}

/** One account the module may run. */
export interface ChannelAccount {
  channel: string;
  accountId: string;
  enabled: boolean;
  configured: boolean;
  /** Why the account is not configured (`lastError` in its snapshot). */
  unconfiguredReason?: string;
  token?: string;
  tokenSource: "config" | "tokenFile" | "env" | "none";
  /** WhatsApp: the Baileys multi-file auth directory. */
  authDir?: string;
  apiRoot?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  /** Default `/telegram-webhook` (`-<accountId>` appended for non-default accounts). */
  webhookPath: string;
  access: AccessPolicy;
  /** Largest outbound media (`mediaMaxMb`); undefined: the channel's default. */
  mediaMaxBytes?: number;
  /** `mediaAllowPrivateNetwork: true`: a reply's `MEDIA:` URL may be on a private address (a LAN media host). */
  mediaAllowPrivateNetwork?: boolean;
  /** Changes iff anything the running account uses changed (reload restarts only those). */
  fingerprint: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
const strList = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map((x) => String(x).trim()).filter((x) => x !== "") : undefined);

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

function groupsOf(v: unknown): Record<string, { requireMention?: boolean }> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, { requireMention?: boolean }> = {};
  for (const [k, g] of Object.entries(v)) out[k] = isObj(g) && typeof g.requireMention === "boolean" ? { requireMention: g.requireMention } : {};
  return out;
}

function accessOf(acct: Obj, chan: Obj): AccessPolicy {
  const pick = (k: string): unknown => (acct[k] !== undefined ? acct[k] : chan[k]);
  return {
    dmPolicy: oneOf(pick("dmPolicy"), ["pairing", "allowlist", "open", "disabled"] as const) ?? "pairing",
    allowFrom: strList(pick("allowFrom")) ?? [],
    groupPolicy: oneOf(pick("groupPolicy"), ["allowlist", "open", "disabled"] as const) ?? "allowlist",
    groupAllowFrom: strList(pick("groupAllowFrom")) ?? [],
    groups: groupsOf(pick("groups")) ?? {},
  };
}

/** `mediaMaxMb` (a positive number of MB) in bytes; undefined when unset or invalid. */
function mediaMaxBytesOf(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v * 1024 * 1024) : undefined;
}

function readTokenFile(path: string): string | undefined {
  try {
    return str(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The Telegram accounts of `channels.telegram`. */
export function resolveTelegramAccounts(channels: unknown, env: NodeJS.ProcessEnv): ChannelAccount[] {
  const chan = isObj(channels) && isObj(channels.telegram) ? channels.telegram : undefined;
  const envToken = str(env.TELEGRAM_BOT_TOKEN);
  if (!chan && !envToken) return [];
  const c = chan ?? {};
  const accounts = isObj(c.accounts) && Object.keys(c.accounts).length > 0 ? c.accounts : { [DEFAULT_ACCOUNT_ID]: {} };
  const out: ChannelAccount[] = [];
  for (const [accountId, raw] of Object.entries(accounts)) {
    const a = isObj(raw) ? raw : {};
    let token = str(a.botToken);
    let tokenSource: ChannelAccount["tokenSource"] = token ? "config" : "none";
    if (!token && str(a.tokenFile)) [token, tokenSource] = [readTokenFile(str(a.tokenFile)!), "tokenFile"];
    if (!token && str(c.botToken)) [token, tokenSource] = [str(c.botToken), "config"];
    if (!token && str(c.tokenFile)) [token, tokenSource] = [readTokenFile(str(c.tokenFile)!), "tokenFile"];
    if (!token && accountId === DEFAULT_ACCOUNT_ID && envToken) [token, tokenSource] = [envToken, "env"];
    if (!token) tokenSource = "none";
    const pick = (k: string): unknown => (a[k] !== undefined ? a[k] : c[k]);
    const enabled = pick("enabled") !== false;
    const acct: ChannelAccount = {
      channel: "telegram",
      accountId,
      enabled,
      configured: token !== undefined,
      tokenSource,
      webhookPath: str(pick("webhookPath")) ?? (accountId === DEFAULT_ACCOUNT_ID ? "/telegram-webhook" : `/telegram-webhook-${accountId}`),
      access: accessOf(a, c),
      fingerprint: "",
    };
    if (token) acct.token = token;
    else acct.unconfiguredReason = "no bot token (botToken, tokenFile or TELEGRAM_BOT_TOKEN)";
    const apiRoot = str(pick("apiRoot"));
    if (apiRoot) acct.apiRoot = apiRoot.replace(/\/+$/, "");
    const webhookUrl = str(pick("webhookUrl"));
    if (webhookUrl) acct.webhookUrl = webhookUrl;
    const webhookSecret = str(pick("webhookSecret"));
    if (webhookSecret) acct.webhookSecret = webhookSecret;
    const mediaMaxBytes = mediaMaxBytesOf(pick("mediaMaxMb"));
    if (mediaMaxBytes !== undefined) acct.mediaMaxBytes = mediaMaxBytes;
    const mediaAllowPrivateNetwork = pick("mediaAllowPrivateNetwork") === true;
    if (mediaAllowPrivateNetwork) acct.mediaAllowPrivateNetwork = true;
    const tokenHash = token ? createHash("sha256").update(token).digest("hex") : null;
    acct.fingerprint = JSON.stringify({ enabled, tokenHash, apiRoot: acct.apiRoot, webhookUrl, webhookSecret, webhookPath: acct.webhookPath, access: acct.access, mediaMaxBytes, mediaAllowPrivateNetwork });
    out.push(acct);
  }
  return out;
}

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `<stateDir>/credentials/whatsapp/<accountId>/` (reference layout). */
export function defaultWhatsAppAuthDir(stateDir: string, accountId: string): string {
  return join(stateDir, "credentials", "whatsapp", accountId);
}

/** The WhatsApp accounts of `channels.whatsapp` (plus a linked default account without a section). */
export function resolveWhatsAppAccounts(channels: unknown, stateDir: string): ChannelAccount[] {
  const chan = isObj(channels) && isObj(channels.whatsapp) ? channels.whatsapp : undefined;
  const defaultLinked = existsSync(join(defaultWhatsAppAuthDir(stateDir, DEFAULT_ACCOUNT_ID), "creds.json"));
  if (!chan && !defaultLinked) return [];
  const c = chan ?? {};
  const accounts = isObj(c.accounts) && Object.keys(c.accounts).length > 0 ? c.accounts : { [DEFAULT_ACCOUNT_ID]: {} };
  const out: ChannelAccount[] = [];
  for (const [accountId, raw] of Object.entries(accounts)) {
    // An id that could leave the credentials dir is never an account.
    if (!ACCOUNT_ID.test(accountId)) continue;
    const a = isObj(raw) ? raw : {};
    const pick = (k: string): unknown => (a[k] !== undefined ? a[k] : c[k]);
    const enabled = pick("enabled") !== false;
    const authDir = str(a.authDir) ?? defaultWhatsAppAuthDir(stateDir, accountId);
    const linked = existsSync(join(authDir, "creds.json"));
    const access = accessOf(a, c);
    const mediaMaxBytes = mediaMaxBytesOf(pick("mediaMaxMb"));
    const mediaAllowPrivateNetwork = pick("mediaAllowPrivateNetwork") === true;
    out.push({
      channel: "whatsapp",
      accountId,
      enabled,
      configured: linked,
      ...(linked ? {} : { unconfiguredReason: "not linked" }),
      tokenSource: "none",
      authDir,
      webhookPath: "",
      access,
      ...(mediaMaxBytes !== undefined ? { mediaMaxBytes } : {}),
      ...(mediaAllowPrivateNetwork ? { mediaAllowPrivateNetwork } : {}),
      fingerprint: JSON.stringify({ enabled, authDir, access, mediaMaxBytes, mediaAllowPrivateNetwork }),
    });
  }
  return out;
}

/** Every channel account of the config, in channel display order. */
export function resolveChannelAccounts(channels: unknown, env: NodeJS.ProcessEnv, stateDir: string): ChannelAccount[] {
  return [...resolveTelegramAccounts(channels, env), ...resolveWhatsAppAccounts(channels, stateDir)];
}

/**
 * True when the config lists any channel account (configured or not: an unlinked WhatsApp
 * account still needs `web.login.*`). Cheap: decides without loading channel code.
 */
export function anyChannelAccount(channels: unknown, env: NodeJS.ProcessEnv, stateDir: string): boolean {
  return resolveChannelAccounts(channels, env, stateDir).length > 0;
}

/**
 * `readChannelsConfig` for the lifecycle: the `channels` section of the config file, read
 * anew at each call (a `restart-channel` reload happens after the file changed).
 */
export async function channelsSectionFromFile(configPath: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  const { loadConfig } = await import("../../shared/config/load-config.js");
  const snap = await loadConfig({ path: configPath, env });
  return (snap.config as { channels?: unknown }).channels;
}
