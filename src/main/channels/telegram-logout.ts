/**
 * Telegram `channels.logout` on the config file (§3.12: "Telegram clears the bot token from
 * config"): removes the account's `botToken` so the account stays logged out after a
 * restart.
 *
 *   default account → `channels.telegram.botToken` and `channels.telegram.accounts.default.botToken`
 *   other account   → `channels.telegram.accounts.<id>.botToken`
 *
 * The edit is made on the file as parsed (before `$include` and `${VAR}` substitution), so
 * every other key, include and variable reference is written back as it was; the write is
 * the config writer's (validate, backups, temp + fsync + rename). A token from `tokenFile`
 * or `TELEGRAM_BOT_TOKEN` is not ours to delete: the result says where the token still
 * comes from (`loggedOut: false`, `envToken`, `tokenSource`) and those files stay untouched.
 */
import { loadConfig, resolveConfigObject } from "../../shared/config/load-config.js";
import { writeConfigFile } from "../../shared/config/write-config.js";
import { GatewayError } from "../../shared/errors.js";
import { DEFAULT_ACCOUNT_ID, resolveTelegramAccounts, type ChannelAccount } from "./channel-config.js";

/** Where the config file is and who writes it. */
export interface TelegramLogoutTarget {
  /** The gateway's config file. */
  configPath: string;
  /** Version stamped into `meta.lastTouchedVersion`. */
  version: string;
  /** Environment for `${VAR}` validation and `TELEGRAM_BOT_TOKEN`. */
  env: NodeJS.ProcessEnv;
}

/** The Telegram part of the `channels.logout` result (the reference's plugin fields). */
export interface TelegramLogoutResult {
  /** True when a `botToken` was removed from the config file. */
  cleared: boolean;
  /** True when `TELEGRAM_BOT_TOKEN` is set (it still configures the default account). */
  envToken: boolean;
  /** True when the account has no token left (it stays logged out after a restart). */
  loggedOut: boolean;
  /** Where the account's token comes from now (`none` once logged out). */
  tokenSource: ChannelAccount["tokenSource"];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A copy of the parsed file without the account's `botToken`, or undefined when the file
 * holds none for it. Emptied objects (`accounts.<id>`, `accounts`, `telegram`, `channels`)
 * are removed, as the reference does.
 */
export function withoutBotToken(parsed: Obj, accountId: string): Obj | undefined {
  const channels = isObj(parsed.channels) ? parsed.channels : undefined;
  const telegram = channels && isObj(channels.telegram) ? { ...channels.telegram } : undefined;
  if (!channels || !telegram) return undefined;
  let changed = false;
  if (accountId === DEFAULT_ACCOUNT_ID && telegram.botToken !== undefined) {
    delete telegram.botToken;
    changed = true;
  }
  const accounts = isObj(telegram.accounts) ? { ...telegram.accounts } : undefined;
  const entry = accounts && isObj(accounts[accountId]) ? { ...(accounts[accountId] as Obj) } : undefined;
  if (accounts && entry && entry.botToken !== undefined) {
    delete entry.botToken;
    changed = true;
    if (Object.keys(entry).length > 0) accounts[accountId] = entry;
    else delete accounts[accountId];
    if (Object.keys(accounts).length > 0) telegram.accounts = accounts;
    else delete telegram.accounts;
  }
  if (!changed) return undefined;
  const nextChannels: Obj = { ...channels };
  if (Object.keys(telegram).length > 0) nextChannels.telegram = telegram;
  else delete nextChannels.telegram;
  const next: Obj = { ...parsed };
  if (Object.keys(nextChannels).length > 0) next.channels = nextChannels;
  else delete next.channels;
  return next;
}

/**
 * Removes the account's `botToken` from the config file (when it is there) and reports
 * whether the account still has a token. Throws `GW_ERR_CONFIG_INVALID` ("config invalid;
 * fix it before logging out") when the file does not load, before anything is changed.
 */
export async function clearTelegramBotToken(target: TelegramLogoutTarget, accountId: string): Promise<TelegramLogoutResult> {
  const snap = await loadConfig({ path: target.configPath, env: target.env });
  if (!snap.valid) {
    throw new GatewayError("GW_ERR_CONFIG_INVALID", "config invalid; fix it before logging out", { path: snap.path, issues: snap.issues.map((i) => ({ path: i.path, message: i.message })) });
  }
  let channels = (snap.config as { channels?: unknown }).channels;
  const next = isObj(snap.parsed) ? withoutBotToken(snap.parsed, accountId) : undefined;
  if (next) {
    const written = await writeConfigFile(target.configPath, next, { version: target.version, env: target.env });
    channels = (await resolveConfigObject(written.config, target.configPath, target.env)).config?.channels;
  }
  const account = resolveTelegramAccounts(channels, target.env).find((a) => a.accountId === accountId);
  const tokenSource = account?.tokenSource ?? "none";
  return { cleared: next !== undefined, envToken: (target.env.TELEGRAM_BOT_TOKEN ?? "").trim() !== "", loggedOut: tokenSource === "none", tokenSource };
}
