/**
 * The `channels` module: one supervised worker per enabled, configured channel account
 * (Telegram, WhatsApp; all skipped with `CLAWDBOT_SKIP_CHANNELS=1`), durable inbound →
 * `InboundHandler` → reply, idempotent `send`, `channels.status` / `channels.logout`,
 * `web.login.*` (channel-methods.ts), the `channels` health section, and `restart-channel`
 * reloads that restart only the accounts whose config changed (channel-accounts.ts).
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
import type { GatewayModuleDef } from "../gateway-module.js";
import { readBody } from "../http/read-body.js";
import type { RestartPolicyOptions } from "../workers/restart-policy.js";
import type { AccountRunner } from "./account-runner.js";
import { accountKey, ChannelAccounts, type AccountWorkerSettings } from "./channel-accounts.js";
import { resolveChannelAccounts, DEFAULT_ACCOUNT_ID, type ChannelAccount } from "./channel-config.js";
import { channelSummary, registerChannelMethods } from "./channel-methods.js";
import type { AccountSnapshot, InboundHandler } from "./channel-types.js";
import { CHANNELS_MODULE } from "./channels-module-options.js";
import type { AccountOwnership } from "./account-ownership.js";
import type { TelegramLogoutTarget } from "./telegram-logout.js";

export { CHANNELS_MODULE } from "./channels-module-options.js";
export { CHANNEL_ORDER } from "./channel-methods.js";

const RECONNECT: RestartPolicyOptions = { initialDelayMs: 2000, factor: 1.8, jitter: 0.25, maxDelayMs: 30_000, maxRestarts: 12, windowMs: 10 * 60_000, stableAfterMs: 60_000 };

/** Per-channel restart schedule of the account workers (the reference's reconnect policy). */
export const CHANNEL_RESTART: Readonly<Record<string, RestartPolicyOptions>> = { telegram: RECONNECT, whatsapp: RECONNECT };

export type { ChannelsModuleOptions } from "./channels-module-options.js";
import type { ChannelsModuleOptions } from "./channels-module-options.js";

/** A chat of a running account. */
export interface DeliveryTarget {
  channel: string;
  to: string;
  /** Default `default`. */
  accountId?: string;
}

/** The module's `api` (lifecycle, hooks delivery, tests). */
export interface ChannelsApi {
  runner(channel: string, accountId?: string): AccountRunner | undefined;
  snapshots(): Record<string, AccountSnapshot[]>;
  /** Sends `text` (chunked) to a chat of a running account, once per `key` (the outbox). */
  deliver(target: DeliveryTarget, text: string, key: string): Promise<unknown>;
  /** Runs accounts only under a lease shared with other gateways (cluster); set before start. */
  setOwnership(ownership: AccountOwnership): void;
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
                else await runner.supervisor!.update!(JSON.parse(raw.toString("utf8")) as unknown);
              } catch {
                status = status === "200 OK" ? "503 Service Unavailable" : status;
              }
              res.cork(() => res.writeStatus(status).end());
            })();
          },
        });

      const accounts = new ChannelAccounts({
        stateDir,
        log,
        handler: o.handler,
        ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
        outbox,
        mountWebhook,
        readChannels: o.readChannelsConfig,
        workers: { restart: o.restart ?? CHANNEL_RESTART, heartbeatTimeoutMs: o.heartbeatTimeoutMs, pollTimeoutSec: o.pollTimeoutSec, fsync: o.fsync, whatsappWorker: o.whatsappWorker },
      });
      const snapshots = (): Record<string, AccountSnapshot[]> => accounts.snapshots(skip ? "skipped (CLAWDBOT_SKIP_CHANNELS=1)" : "not running");

      r.healthSection("channels", () => Object.fromEntries(Object.entries(snapshots()).map(([ch, list]) => [ch, channelSummary(list)])));
      const configFile = (): TelegramLogoutTarget => ({ configPath: live.current.configPath, version: live.current.version, env });
      registerChannelMethods(r.extra.methods, { accounts, stateDir, snapshots, configFile });

      r.onReload(["restart-channel"], async (actions) => {
        const changed = new Set(actions.map((a) => (a.type === "restart-channel" ? a.channel : "")));
        await accounts.reload(resolveChannelAccounts(await o.readChannelsConfig(), env, stateDir), changed, !skip);
      });

      const api: ChannelsApi = {
        runner: (ch, id = DEFAULT_ACCOUNT_ID) => accounts.runners.get(accountKey(ch, id)),
        snapshots,
        deliver: async (target, text, key) => {
          const id = target.accountId ?? DEFAULT_ACCOUNT_ID;
          const runner = accounts.runners.get(accountKey(target.channel, id));
          const remote = runner ? undefined : accounts.remoteSend({ channel: target.channel, accountId: id, key, to: target.to, text });
          if (remote) return remote;
          if (!runner) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${target.channel} account ${id} is not running`);
          return runner.send(key, { to: target.to, text });
        },
        setOwnership: (ownership) => accounts.setOwnership(ownership),
      };
      return {
        api,
        start: async () => {
          accounts.list = resolveChannelAccounts(await o.readChannelsConfig(), env, stateDir);
          if (skip) return;
          for (const a of accounts.list) await accounts.start(a);
        },
        stop: async () => {
          await accounts.stopAll();
          await outbox.close().catch(() => undefined);
        },
      };
    },
  };
}
