/**
 * The channel methods: `channels.status`, `channels.logout`, `send` (§3.4, §3.12) and the
 * WhatsApp QR login `web.login.start` / `web.login.wait` (§10.2, Appendix B.5).
 *
 * `send` to WhatsApp goes through the account's live socket (delivery mode `gateway`): with
 * no running account it fails `NOT_LINKED` with the reference's remedy text. A delivered
 * send is mirrored into its session's transcript (`sessionKey`, lower-cased, else the chat's
 * inbound session; agents/delivery-mirror.ts), once per idempotency key. Logout:
 * WhatsApp logs out on the phone's side when connected and deletes
 * `credentials/whatsapp/<accountId>/`; Telegram stops the account and removes its
 * `botToken` from the config file (telegram-logout.ts), so it stays logged out after a
 * restart; until its config changes it does not run again in this process either.
 */
import { rm } from "node:fs/promises";
import { GatewayError } from "../../shared/errors.js";
import { mediaRefProblem } from "../../workers/channels/outbound-media.js";
import { notLinkedMessage } from "../../workers/channels/whatsapp/not-linked-message.js";
import type { MethodTable } from "../router.js";
import { accountKey, type ChannelAccounts } from "./channel-accounts.js";
import { DEFAULT_ACCOUNT_ID, resolveWhatsAppAccounts, type ChannelAccount } from "./channel-config.js";
import { outboundSessionKey, type AccountSnapshot } from "./channel-types.js";
import { clearTelegramBotToken, type TelegramLogoutTarget } from "./telegram-logout.js";

/** Channels this module runs, in display order. */
export const CHANNEL_ORDER = ["telegram", "whatsapp"] as const;
const LABELS: Record<string, string> = { telegram: "Telegram", whatsapp: "WhatsApp" };

const isChannel = (c: string): boolean => (CHANNEL_ORDER as readonly string[]).includes(c);

/** The `channels.status` / `health` summary of a channel: its default account, plus all accounts. */
export function channelSummary(list: AccountSnapshot[]): Record<string, unknown> {
  const def = list.find((s) => s.accountId === DEFAULT_ACCOUNT_ID) ?? list[0]!;
  return { ...def, accounts: Object.fromEntries(list.map((s) => [s.accountId, s])) };
}

/** What the methods need from the module. */
export interface ChannelMethodDeps {
  accounts: ChannelAccounts;
  stateDir: string;
  snapshots(): Record<string, AccountSnapshot[]>;
  /** The config file Telegram logout edits (read at each call: options are live). */
  configFile(): TelegramLogoutTarget;
}

/** A WhatsApp account by id: the listed one, else one with the default auth dir (login of a new account). */
function whatsappAccount(d: ChannelMethodDeps, accountId: string): ChannelAccount {
  const listed = d.accounts.find("whatsapp", accountId);
  if (listed) return listed;
  const made = resolveWhatsAppAccounts({ whatsapp: { accounts: { [accountId]: {} } } }, d.stateDir)[0];
  if (!made) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid WhatsApp account id "${accountId}"`);
  d.accounts.list.push(made);
  return made;
}

export function registerChannelMethods(methods: MethodTable, d: ChannelMethodDeps): void {
  const { accounts } = d;

  methods.add("channels.status", "ChannelsStatusParams", async ({ params }) => {
    const timeoutMs = Math.max(1000, params.timeoutMs ?? 10_000);
    if (params.probe === true) {
      await Promise.all(
        [...accounts.runners.values()].map(async (run) => {
          const link = run.supervisor;
          try {
            if (!link || link.getState().state !== "running") throw new Error(`worker is ${link?.getState().state ?? "stopped"}`);
            if (link.probe) run.snap.probe = await link.probe(timeoutMs);
          } catch (err) {
            run.snap.probe = { ok: false, error: err instanceof Error ? err.message : String(err) };
          }
          run.snap.lastProbeAt = Date.now();
        }),
      );
    }
    const snaps = d.snapshots();
    const ids = CHANNEL_ORDER.filter((id) => snaps[id] !== undefined);
    return {
      ts: Date.now(),
      channelOrder: ids,
      channelLabels: Object.fromEntries(ids.map((id) => [id, LABELS[id] ?? id])),
      channelDetailLabels: Object.fromEntries(ids.map((id) => [id, LABELS[id] ?? id])),
      channelSystemImages: {},
      channelMeta: ids.map((id) => ({ id, label: LABELS[id] ?? id, detailLabel: LABELS[id] ?? id })),
      channels: Object.fromEntries(ids.map((id) => [id, channelSummary(snaps[id]!)])),
      channelAccounts: snaps,
      channelDefaultAccountId: Object.fromEntries(ids.map((id) => [id, DEFAULT_ACCOUNT_ID])),
    };
  });

  methods.add("channels.logout", "ChannelsLogoutParams", async ({ params }) => {
    const channel = params.channel.trim().toLowerCase();
    if (!isChannel(channel)) throw new GatewayError("GW_ERR_CHANNEL_UNSUPPORTED", "invalid channels.logout channel");
    const accountId = params.accountId ?? DEFAULT_ACCOUNT_ID;
    const key = accountKey(channel, accountId);
    const runner = accounts.runners.get(key);
    const wasRunning = runner !== undefined;
    if (channel === "whatsapp") {
      const a = whatsappAccount(d, accountId);
      const link = runner?.supervisor;
      const res = link?.logout && link.getState().state === "running" ? await link.logout() : { cleared: await rm(a.authDir!, { recursive: true }).then(() => true, () => false), loggedOut: false };
      await accounts.stop(key);
      // Unlinked now: the account stays listed and waits for the next QR login.
      a.configured = false;
      a.unconfiguredReason = "not linked";
      accounts.notRunning.set(key, "not linked");
      return { channel, accountId, cleared: res.cleared, loggedOut: res.loggedOut, wasRunning };
    }
    // As the reference: the account stops first; an invalid config file then fails the call
    // (the account stays stopped). The token is off the disk before the answer.
    accounts.loggedOut.add(key);
    await accounts.stop(key);
    accounts.notRunning.set(key, "logged out");
    const res = await clearTelegramBotToken(d.configFile(), accountId);
    return { channel, accountId, ...res, wasRunning };
  });

  methods.add("send", "SendParams", async ({ params }) => {
    const channel = (params.channel ?? "whatsapp").trim().toLowerCase();
    const accountId = params.accountId ?? DEFAULT_ACCOUNT_ID;
    const key = accountKey(channel, accountId);
    const runner = accounts.runners.get(key);
    const to = params.to.trim();
    // §3.4 steps 4–5: the given session (lower-cased) or the one inbound routing gives the chat.
    const mirrorInto = params.sessionKey?.trim().toLowerCase() || outboundSessionKey(channel, to);
    const media = sendMedia(params.mediaUrl, params.mediaUrls);
    const send = {
      channel, accountId, key: `send:${params.idempotencyKey}`, to, text: params.message.trim(), mirrorInto,
      ...(media.length > 0 ? { media } : {}), ...(params.gifPlayback === true ? { gifPlayback: true } : {}),
    };
    const remote = runner ? undefined : accounts.remoteSend(send);
    if (remote) {
      const sent = await remote;
      return { runId: params.idempotencyKey, messageId: sent.messageId, channel, chatId: sent.chatId, ...(channel === "whatsapp" ? { toJid: sent.chatId } : {}) };
    }
    if (!runner) {
      if (!isChannel(channel)) throw new GatewayError("GW_ERR_CHANNEL_UNSUPPORTED", `unsupported channel: ${channel}`);
      if (channel === "whatsapp") throw new GatewayError("GW_ERR_WHATSAPP_NOT_LINKED", notLinkedMessage(accountId), { accountId, channel });
      throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${channel} account ${accountId} is not running (${accounts.notRunning.get(key) ?? "not configured"})`);
    }
    const sent = await accounts.sendHere(send);
    return { runId: params.idempotencyKey, messageId: sent.messageId, channel, chatId: sent.chatId, ...(channel === "whatsapp" ? { toJid: sent.chatId } : {}) };
  });

  methods.add("web.login.start", "WebLoginStartParams", async ({ params }) => {
    const a = whatsappAccount(d, params.accountId ?? DEFAULT_ACCOUNT_ID);
    const runner = await accounts.start(a, { login: true });
    const login = runner?.supervisor?.login;
    if (!runner || !login) return { message: `Failed to start the WhatsApp login: ${accounts.notRunning.get(accountKey("whatsapp", a.accountId)) ?? "account not running"}` };
    await runner.supervisor!.whenRunning();
    const r = await login.start({ ...(params.force !== undefined ? { force: params.force } : {}), ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}) });
    return { ...(r.qrDataUrl !== undefined ? { qrDataUrl: r.qrDataUrl } : {}), message: r.message };
  });

  methods.add("web.login.wait", "WebLoginWaitParams", async ({ params }) => {
    const accountId = params.accountId ?? DEFAULT_ACCOUNT_ID;
    const runner = accounts.runners.get(accountKey("whatsapp", accountId));
    const login = runner?.supervisor?.login;
    if (!runner || !login) return { connected: false, message: "No active WhatsApp login in progress." };
    const r = await login.wait(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {});
    if (r.connected) {
      // Linked: the worker that logged in is the account's running channel from now on.
      runner.account.configured = true;
      delete runner.account.unconfiguredReason;
      runner.snap.linked = true;
    }
    return r;
  });
}

/** Most media one `send` carries. */
const MAX_SEND_MEDIA = 10;

/**
 * `mediaUrl` then `mediaUrls`, blanks dropped, duplicates once. A reference the worker could
 * not load (relative path, other scheme) or too many are INVALID_REQUEST before anything is
 * recorded, so a corrected retry under the same key still sends.
 */
function sendMedia(mediaUrl: string | undefined, mediaUrls: string[] | undefined): string[] {
  const refs = [...new Set([mediaUrl, ...(mediaUrls ?? [])].map((r) => r?.trim() ?? "").filter((r) => r !== ""))];
  if (refs.length > MAX_SEND_MEDIA) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid send params: at most ${MAX_SEND_MEDIA} media per send (got ${refs.length})`);
  for (const r of refs) {
    const problem = mediaRefProblem(r);
    if (problem) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid send params: ${problem}`);
  }
  return refs;
}
