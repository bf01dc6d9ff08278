/**
 * The `channels` module: one supervised worker per enabled, configured channel account
 * (all skipped with `CLAWDBOT_SKIP_CHANNELS=1`), durable inbound → `InboundHandler` → reply,
 * idempotent `send`, `channels.status` / `channels.logout`, the `channels` health section,
 * and `restart-channel` reloads that restart only the accounts whose config changed.
 *
 * Restart schedule per channel (`CHANNEL_RESTART`; Telegram and WhatsApp: 2 s ×1.8, jitter
 * 0.25, max 30 s) with the supervisor's loop breaker (12 restarts in 10 min → broken).
 * Webhook mode: the account's `webhookPath` is mounted on the gateway port; a request must
 * carry `X-Telegram-Bot-Api-Secret-Token` equal to `webhookSecret` (constant-time) and is
 * answered 200 once the worker handled the update (i.e. it is durable).
 */
import { join } from "node:path";
import { safeEqualSecret } from "../auth/shared-auth.js";
import { GatewayError } from "../../shared/errors.js";
import { Outbox } from "../../shared/store/outbox.js";
import type { TelegramWorkerData } from "../../workers/channels/telegram/telegram-worker-data.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { readBody } from "../http/read-body.js";
import type { RestartPolicyOptions } from "../workers/restart-policy.js";
import { AccountRunner } from "./account-runner.js";
import { resolveChannelAccounts, DEFAULT_ACCOUNT_ID, type ChannelAccount } from "./channel-config.js";
import { ChannelPairingStore } from "./channel-pairing-store.js";
import type { AccountSnapshot, InboundHandler } from "./channel-types.js";
import { TokenLeases } from "./token-lease.js";

export const CHANNELS_MODULE = "channels";

/** Channels this module runs, in display order. */
export const CHANNEL_ORDER = ["telegram"] as const;
const LABELS: Record<string, string> = { telegram: "Telegram", whatsapp: "WhatsApp" };

/** Per-channel restart schedule (the reference's reconnect policy). */
export const CHANNEL_RESTART: Readonly<Record<string, RestartPolicyOptions>> = {
  telegram: { initialDelayMs: 2000, factor: 1.8, jitter: 0.25, maxDelayMs: 30_000, maxRestarts: 12, windowMs: 10 * 60_000, stableAfterMs: 60_000 },
};

/** Options of the channels module. */
export interface ChannelsModuleOptions {
  /** Answers accepted inbound messages (the agent; see channel-types.ts). */
  handler: InboundHandler;
  /** The config's `channels` section, read at start and at each `restart-channel` reload. */
  readChannelsConfig: () => unknown | Promise<unknown>;
  /** Environment for `TELEGRAM_BOT_TOKEN`, `CLAWDBOT_SKIP_CHANNELS`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Overrides of the per-channel restart schedule (tests). Default `CHANNEL_RESTART`. */
  restart?: Readonly<Record<string, RestartPolicyOptions>>;
  /** Heartbeat timeout of the account workers in ms. Default 10 000. */
  heartbeatTimeoutMs?: number;
  /** Long-poll timeout handed to Telegram workers (s). Default 30. */
  pollTimeoutSec?: number;
  /** fsync the inbound queues and the outbox (default true; false only for benchmarks). */
  fsync?: boolean;
}

/** The module's `api` (lifecycle, tests). */
export interface ChannelsApi {
  runner(channel: string, accountId?: string): AccountRunner | undefined;
  snapshots(): Record<string, AccountSnapshot[]>;
}

function workerEntry(rel: string): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`${rel}${ext}`, import.meta.url);
}

const ENTRIES: Record<string, URL> = { telegram: workerEntry("../../workers/channels/telegram/telegram-link-worker") };

function idle(a: ChannelAccount, lastError: string): AccountSnapshot {
  return {
    accountId: a.accountId, enabled: a.enabled, configured: a.configured, running: false, connected: false, mode: null, tokenSource: a.tokenSource,
    reconnectAttempts: 0, lastConnectedAt: null, lastDisconnect: null, lastMessageAt: null, lastInboundAt: null, lastOutboundAt: null,
    lastStartAt: null, lastStopAt: null, lastError, lastProbeAt: null, dmPolicy: a.access.dmPolicy, allowFrom: a.access.allowFrom, queueDepth: 0, worker: null,
  };
}

export function channelsModule(o: ChannelsModuleOptions): GatewayModuleDef {
  return {
    name: CHANNELS_MODULE,
    async register(r) {
      const { log, live } = r.core;
      const env = o.env ?? process.env;
      const skip = env.CLAWDBOT_SKIP_CHANNELS === "1";
      const stateDir = live.current.stateDir;
      const outbox = await Outbox.open(join(stateDir, "channels", "outbox.jsonl"), { fsync: o.fsync });
      const leases = new TokenLeases();
      const pairing = new Map<string, ChannelPairingStore>();
      const pairingOf = (ch: string): ChannelPairingStore => {
        let p = pairing.get(ch);
        if (!p) pairing.set(ch, (p = new ChannelPairingStore(stateDir, ch)));
        return p;
      };
      /** Every configured account (running or not), and the runners of the running ones. */
      let accounts: ChannelAccount[] = [];
      const runners = new Map<string, AccountRunner>();
      const notRunning = new Map<string, string>();
      const loggedOut = new Set<string>();
      const unmounts = new Map<string, () => void>();
      const keyOf = (a: ChannelAccount): string => `${a.channel}:${a.accountId}`;

      const startAccount = async (a: ChannelAccount): Promise<void> => {
        const key = keyOf(a);
        notRunning.delete(key);
        if (!a.enabled) return void notRunning.set(key, "disabled");
        if (!a.configured || !a.token) return void notRunning.set(key, a.unconfiguredReason ?? "not configured");
        if (loggedOut.has(key)) return void notRunning.set(key, "logged out");
        const lease = leases.acquire(a.token, key);
        if (!lease.ok) return void notRunning.set(key, `token already in use by ${lease.heldBy}`);
        const data: TelegramWorkerData = {
          accountId: a.accountId, token: a.token, mode: a.webhookUrl ? "webhook" : "polling",
          ...(a.apiRoot ? { apiRoot: a.apiRoot } : {}), ...(a.webhookUrl ? { webhookUrl: a.webhookUrl } : {}),
          ...(a.webhookSecret ? { webhookSecret: a.webhookSecret } : {}), ...(o.pollTimeoutSec !== undefined ? { pollTimeoutSec: o.pollTimeoutSec } : {}),
        };
        const runner = new AccountRunner({
          account: a, stateDir, log, handler: o.handler, outbox, pairing: pairingOf(a.channel), entry: ENTRIES[a.channel]!, workerData: data,
          restart: (o.restart ?? CHANNEL_RESTART)[a.channel] ?? {}, heartbeatTimeoutMs: o.heartbeatTimeoutMs, queueFsync: o.fsync,
        });
        runners.set(key, runner);
        if (a.webhookUrl) unmounts.set(key, mountWebhook(a, runner));
        try {
          await runner.start();
        } catch (err) {
          runners.delete(key);
          leases.release(a.token, key);
          notRunning.set(key, `start failed: ${String(err)}`);
        }
      };

      const stopAccount = async (key: string): Promise<void> => {
        const runner = runners.get(key);
        unmounts.get(key)?.();
        unmounts.delete(key);
        if (!runner) return;
        runners.delete(key);
        await runner.stop(); // resolves after the worker thread exited
        if (runner.account.token) leases.release(runner.account.token, key);
      };

      const mountWebhook = (a: ChannelAccount, runner: AccountRunner): (() => void) =>
        r.extra.http.mount({
          stage: "plugins",
          path: { exact: a.webhookPath },
          methods: ["POST"],
          handler: (res, req) => {
            const secret = req.getHeader("x-telegram-bot-api-secret-token");
            const body = readBody(res, req, { maxBytes: 1024 * 1024 });
            void (async () => {
              let status = "200 OK";
              try {
                const raw = await body;
                if (!a.webhookSecret || !safeEqualSecret(secret, a.webhookSecret)) status = "401 Unauthorized";
                else await runner.supervisor!.request("update", { update: JSON.parse(raw.toString("utf8")) as unknown });
              } catch {
                status = status === "200 OK" ? "503 Service Unavailable" : status;
              }
              res.cork(() => res.writeStatus(status).end());
            })();
          },
        });

      const snapshots = (): Record<string, AccountSnapshot[]> => {
        const out: Record<string, AccountSnapshot[]> = {};
        for (const a of accounts) {
          const runner = runners.get(keyOf(a));
          (out[a.channel] ??= []).push(runner ? runner.snapshot() : idle(a, notRunning.get(keyOf(a)) ?? (skip ? "skipped (CLAWDBOT_SKIP_CHANNELS=1)" : "not running")));
        }
        return out;
      };

      const summary = (list: AccountSnapshot[]): Record<string, unknown> => {
        const def = list.find((s) => s.accountId === DEFAULT_ACCOUNT_ID) ?? list[0]!;
        return { ...def, accounts: Object.fromEntries(list.map((s) => [s.accountId, s])) };
      };

      r.healthSection("channels", () => Object.fromEntries(Object.entries(snapshots()).map(([ch, list]) => [ch, summary(list)])));

      r.extra.methods.add("channels.status", "ChannelsStatusParams", async ({ params }) => {
        const timeoutMs = Math.max(1000, params.timeoutMs ?? 10_000);
        if (params.probe === true) {
          await Promise.all(
            [...runners.values()].map(async (run) => {
              const sup = run.supervisor;
              try {
                if (!sup || sup.getState().state !== "running") throw new Error(`worker is ${sup?.getState().state ?? "stopped"}`);
                run.snap.probe = await sup.request("probe", { timeoutMs }, { timeoutMs: timeoutMs + 500 });
              } catch (err) {
                run.snap.probe = { ok: false, error: err instanceof Error ? err.message : String(err) };
              }
              run.snap.lastProbeAt = Date.now();
            }),
          );
        }
        const snaps = snapshots();
        const ids = Object.keys(snaps);
        return {
          ts: Date.now(),
          channelOrder: ids,
          channelLabels: Object.fromEntries(ids.map((id) => [id, LABELS[id] ?? id])),
          channelDetailLabels: Object.fromEntries(ids.map((id) => [id, LABELS[id] ?? id])),
          channelSystemImages: {},
          channelMeta: ids.map((id) => ({ id, label: LABELS[id] ?? id, detailLabel: LABELS[id] ?? id })),
          channels: Object.fromEntries(ids.map((id) => [id, summary(snaps[id]!)])),
          channelAccounts: snaps,
          channelDefaultAccountId: Object.fromEntries(ids.map((id) => [id, DEFAULT_ACCOUNT_ID])),
        };
      });

      r.extra.methods.add("channels.logout", "ChannelsLogoutParams", async ({ params }) => {
        const channel = params.channel.trim().toLowerCase();
        if (!(CHANNEL_ORDER as readonly string[]).includes(channel)) throw new GatewayError("GW_ERR_CHANNEL_UNSUPPORTED", "invalid channels.logout channel");
        const accountId = params.accountId ?? DEFAULT_ACCOUNT_ID;
        const key = `${channel}:${accountId}`;
        const wasRunning = runners.has(key);
        await stopAccount(key);
        loggedOut.add(key);
        notRunning.set(key, "logged out");
        return { channel, accountId, cleared: true, loggedOut: true, wasRunning };
      });

      r.extra.methods.add("send", "SendParams", async ({ params }) => {
        const channel = (params.channel ?? "whatsapp").trim().toLowerCase();
        const accountId = params.accountId ?? DEFAULT_ACCOUNT_ID;
        const runner = runners.get(`${channel}:${accountId}`);
        if (!runner) {
          if (!(CHANNEL_ORDER as readonly string[]).includes(channel)) throw new GatewayError("GW_ERR_CHANNEL_UNSUPPORTED", `unsupported channel: ${channel}`);
          throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${channel} account ${accountId} is not running (${notRunning.get(`${channel}:${accountId}`) ?? "not configured"})`);
        }
        const key = `send:${params.idempotencyKey}`;
        const sent = await runner.send(key, params.to.trim(), params.message.trim());
        return { runId: params.idempotencyKey, messageId: sent.messageId, channel, chatId: sent.chatId };
      });

      r.onReload(["restart-channel"], async (actions) => {
        const changed = new Set(actions.map((a) => (a.type === "restart-channel" ? a.channel : "")));
        const next = resolveChannelAccounts(await o.readChannelsConfig(), env);
        const before = new Map(accounts.map((a) => [keyOf(a), a]));
        const after = new Map(next.map((a) => [keyOf(a), a]));
        accounts = next;
        if (skip) return;
        for (const [key, old] of before) {
          if (!changed.has(old.channel)) continue;
          const now = after.get(key);
          if (!now || now.fingerprint !== old.fingerprint) {
            loggedOut.delete(key);
            await stopAccount(key);
            notRunning.delete(key);
          }
        }
        for (const [key, a] of after) {
          if (!changed.has(a.channel)) continue;
          const old = before.get(key);
          if (!old || old.fingerprint !== a.fingerprint) await startAccount(a);
        }
      });

      const api: ChannelsApi = { runner: (ch, id = DEFAULT_ACCOUNT_ID) => runners.get(`${ch}:${id}`), snapshots };
      return {
        api,
        start: async () => {
          accounts = resolveChannelAccounts(await o.readChannelsConfig(), env);
          if (skip) return;
          for (const a of accounts) await startAccount(a);
        },
        stop: async () => {
          await Promise.all([...runners.keys()].map((k) => stopAccount(k)));
          await outbox.close().catch(() => undefined);
        },
      };
    },
  };
}
