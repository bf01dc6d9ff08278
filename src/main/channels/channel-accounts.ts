/**
 * The channel accounts of one gateway: which are listed, which run (one `AccountRunner`
 * each) and why the others do not; starting, stopping and reloading them.
 *
 * An account runs when it is enabled and configured (Telegram: a token nobody else holds;
 * WhatsApp: linked). An unlinked WhatsApp account runs only once `web.login.start` asks for
 * it (`start(a, {login: true})`): its worker is where the QR login happens.
 *
 * With an `AccountOwnership` (cluster, account-ownership.ts) an account that may run here
 * runs only while this gateway holds its lease: `start` competes for it, and the lease
 * starts and halts the runner; `stop` stops it and gives the lease up. An account this
 * gateway competes for but does not run, whose local inbound queue still holds entries
 * (left by a kill after they were confirmed to the platform, or by a lost lease), gets a
 * runner without worker that handles them and forwards their replies to the owner; it
 * becomes the account's runner if the lease comes here.
 */
import { access } from "node:fs/promises";
import type { Logger } from "pino";
import type { Outbox } from "../../shared/store/outbox.js";
import type { TelegramWorkerData } from "../../workers/channels/telegram/telegram-worker-data.js";
import type { RestartPolicyOptions } from "../workers/restart-policy.js";
import { CHANNEL_WORKER_NICE, protocolLink, type CreateAccountLink } from "./account-link.js";
import { AccountRunner } from "./account-runner.js";
import { idleSnapshot } from "./account-snapshot.js";
import { resolveWhatsAppAccounts, type ChannelAccount } from "./channel-config.js";
import { ChannelPairingStore } from "./channel-pairing-store.js";
import type { AccountSnapshot, InboundHandler, SendMirror } from "./channel-types.js";
import { accountLeaseKey, type AccountOwnership, type ForwardedSend } from "./account-ownership.js";
import type { ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import { GatewayError } from "../../shared/errors.js";
import { TokenLeases } from "./token-lease.js";
import { whatsappLink, type WhatsAppLinkOptions } from "./whatsapp/whatsapp-link.js";

/** Settings of the accounts' workers (the module's options). */
export interface AccountWorkerSettings {
  restart: Readonly<Record<string, RestartPolicyOptions>>;
  heartbeatTimeoutMs?: number;
  pollTimeoutSec?: number;
  fsync?: boolean;
  /** WhatsApp worker overrides (tests: the fake socket factory, short reconnects). */
  whatsappWorker?: WhatsAppLinkOptions["worker"];
}

/** What the registry is built from. */
export interface ChannelAccountsDeps {
  stateDir: string;
  log: Logger;
  handler: InboundHandler;
  outbox: Outbox;
  workers: AccountWorkerSettings;
  /** The live config's `channels` section (WhatsApp access keys are read per message, §10.2). */
  readChannels: () => unknown | Promise<unknown>;
  /** Mirrors a delivered `send` into its session transcript (sends carrying `mirrorInto`). */
  mirror?: SendMirror;
  /** Mounts a Telegram account's webhook route; returns the unmount. */
  mountWebhook: (a: ChannelAccount, runner: AccountRunner) => () => void;
}

function workerEntry(rel: string): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`${rel}${ext}`, import.meta.url);
}

const TELEGRAM_ENTRY = workerEntry("../../workers/channels/telegram/telegram-link-worker");

/** The key of an account in every map: `<channel>:<accountId>`. */
export const accountKey = (channel: string, accountId: string): string => `${channel}:${accountId}`;

export class ChannelAccounts {
  /** Every listed account (running or not). */
  list: ChannelAccount[] = [];
  readonly runners = new Map<string, AccountRunner>();
  /** Why a listed account does not run (its snapshot's `lastError`). */
  readonly notRunning = new Map<string, string>();
  /** Accounts `channels.logout` stopped (until their config changes). */
  readonly loggedOut = new Set<string>();
  readonly #unmounts = new Map<string, () => void>();
  readonly #leases = new TokenLeases();
  readonly #pairing = new Map<string, ChannelPairingStore>();
  #ownership: AccountOwnership | undefined;
  /** Account key → lease key of the accounts competing for their lease. */
  readonly #claimed = new Map<string, string>();
  /** Runners without worker of accounts run elsewhere, owing entries of their local queue. */
  readonly #drains = new Map<string, AccountRunner>();

  constructor(private readonly d: ChannelAccountsDeps) {}

  /** Runs accounts only under a lease (cluster). Set before `start`. */
  setOwnership(ownership: AccountOwnership): void {
    this.#ownership = ownership;
    ownership.serveSends((s) => this.#localSend(s));
  }

  #localSend(s: ForwardedSend): Promise<ChannelSendResult> {
    return this.sendHere(s);
  }

  /** A send on this gateway's runner of the account, once per key (cluster-wide under ownership). */
  async sendHere(s: ForwardedSend): Promise<ChannelSendResult> {
    const runner = this.runners.get(accountKey(s.channel, s.accountId));
    if (!runner) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${s.channel} account ${s.accountId} is not running on this gateway`);
    const mirror = s.mirrorInto !== undefined ? this.d.mirror : undefined;
    // Inside the outbox attempt, so only a send delivered now is mirrored (never a replay);
    // not awaited: a run holding the session's lane must not hold up the send's answer.
    const onDelivered = mirror
      ? (): void =>
          void mirror(s.mirrorInto!, s.text).catch((err: unknown) => this.d.log.warn({ channel: s.channel, account: s.accountId, err: String(err) }, "send: delivered, but not mirrored into the session transcript"))
      : undefined;
    const run = (): Promise<ChannelSendResult> => runner.send(s.key, s, onDelivered);
    return this.#ownership === undefined ? run() : this.#ownership.once(s.key, run);
  }

  /**
   * A send for an account another gateway runs, forwarded to it; undefined when there is no
   * such gateway (no cluster, or nobody holds the lease).
   */
  remoteSend(s: ForwardedSend): Promise<ChannelSendResult> | undefined {
    const a = this.find(s.channel, s.accountId);
    if (this.#ownership === undefined || a === undefined) return undefined;
    const lease = accountLeaseKey(a);
    if (this.#ownership.holder(lease) === undefined) return undefined;
    return this.#ownership.forwardSend(lease, s);
  }

  find(channel: string, accountId: string): ChannelAccount | undefined {
    return this.list.find((a) => a.channel === channel && a.accountId === accountId);
  }

  #pairingOf(channel: string): ChannelPairingStore {
    let p = this.#pairing.get(channel);
    if (!p) this.#pairing.set(channel, (p = new ChannelPairingStore(this.d.stateDir, channel)));
    return p;
  }

  #link(a: ChannelAccount, key: string): CreateAccountLink | null {
    const w = this.d.workers;
    const restart = w.restart[a.channel] ?? {};
    if (a.channel === "whatsapp") {
      return whatsappLink({
        accountId: a.accountId,
        authDir: a.authDir!,
        restart,
        worker: {
          ...w.whatsappWorker,
          ...(a.mediaMaxBytes !== undefined ? { mediaMaxBytes: a.mediaMaxBytes } : {}),
          ...(a.mediaAllowPrivateNetwork ? { mediaAllowPrivateNetwork: true } : {}),
        },
        supervisor: { nice: CHANNEL_WORKER_NICE, ...(w.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: w.heartbeatTimeoutMs } : {}) },
      });
    }
    if (a.channel !== "telegram" || !a.token) return null;
    const data: TelegramWorkerData = {
      accountId: a.accountId, token: a.token, mode: a.webhookUrl ? "webhook" : "polling",
      ...(a.apiRoot ? { apiRoot: a.apiRoot } : {}), ...(a.webhookUrl ? { webhookUrl: a.webhookUrl } : {}),
      ...(a.webhookSecret ? { webhookSecret: a.webhookSecret } : {}), ...(w.pollTimeoutSec !== undefined ? { pollTimeoutSec: w.pollTimeoutSec } : {}),
      ...(a.mediaMaxBytes !== undefined ? { mediaMaxBytes: a.mediaMaxBytes } : {}), ...(a.mediaAllowPrivateNetwork ? { mediaAllowPrivateNetwork: true } : {}),
    };
    return protocolLink({ name: `channel:${key}`, entry: TELEGRAM_ENTRY, workerData: data, restart, heartbeatTimeoutMs: w.heartbeatTimeoutMs });
  }

  /** Starts `a` if it may run; otherwise records why not. `login`: run an unlinked WhatsApp account for its QR login. */
  async start(a: ChannelAccount, o: { login?: boolean; leased?: boolean } = {}): Promise<AccountRunner | undefined> {
    const key = accountKey(a.channel, a.accountId);
    const running = this.runners.get(key);
    if (running) return running;
    this.notRunning.delete(key);
    if (!a.enabled) return void this.notRunning.set(key, "disabled");
    if (!a.configured && !(o.login && a.channel === "whatsapp")) return void this.notRunning.set(key, a.unconfiguredReason ?? "not configured");
    if (this.loggedOut.has(key)) return void this.notRunning.set(key, "logged out");
    if (this.#ownership !== undefined && o.leased !== true && !o.login) return void this.#claim(a, key);
    const link = this.#link(a, key);
    if (!link) return void this.notRunning.set(key, a.unconfiguredReason ?? "not configured");
    if (a.token) {
      const lease = this.#leases.acquire(a.token, key);
      if (!lease.ok) return void this.notRunning.set(key, `token already in use by ${lease.heldBy}`);
    }
    const drain = this.#drains.get(key);
    this.#drains.delete(key);
    const runner = drain ?? this.#newRunner(a, link);
    this.runners.set(key, runner);
    if (a.webhookUrl) this.#unmounts.set(key, this.d.mountWebhook(a, runner));
    try {
      await runner.start();
      return runner;
    } catch (err) {
      this.runners.delete(key);
      if (a.token) this.#leases.release(a.token, key);
      this.notRunning.set(key, `start failed: ${String(err)}`);
      return undefined;
    }
  }

  #newRunner(a: ChannelAccount, link: CreateAccountLink): AccountRunner {
    const ownership = this.#ownership;
    return new AccountRunner({
      account: a, stateDir: this.d.stateDir, log: this.d.log, handler: this.d.handler, outbox: this.d.outbox, pairing: this.#pairingOf(a.channel), link, queueFsync: this.d.workers.fsync,
      ...(ownership !== undefined ? { ownership, forward: (s: ForwardedSend) => ownership.forwardSend(accountLeaseKey(a), s) } : {}),
      // `channels.whatsapp` is read live (a change there is no reload action, §8.4).
      ...(a.channel === "whatsapp" ? { access: async () => liveWhatsAppAccess(await this.d.readChannels(), this.d.stateDir, a) } : {}),
    });
  }

  /**
   * Handles what the local queue of an account claimed here but run elsewhere still owes
   * (runner without worker; replies forwarded to the owner). Nothing without a queue file or
   * pending entries.
   */
  async #drainLeftovers(a: ChannelAccount, key: string): Promise<void> {
    const file = AccountRunner.queueFile(this.d.stateDir, a);
    if (!(await access(file).then(() => true, () => false))) return;
    if (!this.#claimed.has(key) || this.runners.has(key) || this.#drains.has(key)) return;
    const link = this.#link(a, key);
    if (!link) return;
    const runner = this.#newRunner(a, link);
    this.#drains.set(key, runner);
    try {
      await runner.openQueue();
    } catch (err) {
      this.d.log.error({ err: String(err), channel: a.channel, account: a.accountId }, "inbound queue not readable; its entries wait for this gateway to run the account");
    }
    const depth = runner.snapshot().queueDepth;
    if (this.#drains.get(key) !== runner) return; // taken over by `start` meanwhile
    if (depth === 0) {
      this.#drains.delete(key);
      await runner.stop();
      return;
    }
    this.d.log.info({ channel: a.channel, account: a.accountId, pending: depth }, "inbound messages left in the local queue of an account run by another gateway: handling them here, replies through the owner");
  }

  /** Competes for the account's lease; the runner follows it. */
  #claim(a: ChannelAccount, key: string): void {
    const ownership = this.#ownership as AccountOwnership;
    const lease = accountLeaseKey(a);
    if (this.#claimed.has(key)) return;
    this.#claimed.set(key, lease);
    this.notRunning.set(key, "waiting for the account lease (another gateway runs it)");
    ownership.claim(lease, {
      run: async () => {
        if (this.#claimed.get(key) !== lease) return;
        await this.start(a, { leased: true });
      },
      halt: async () => {
        await this.#stopRunner(key);
        if (this.#claimed.get(key) !== lease) return;
        this.notRunning.set(key, "waiting for the account lease (another gateway runs it)");
        await this.#drainLeftovers(a, key);
      },
    });
    void this.#drainLeftovers(a, key);
  }

  /** Stops the account's runner and gives its lease up (resolves after its worker exited). */
  async stop(key: string): Promise<void> {
    await this.#stopRunner(key);
    const lease = this.#claimed.get(key);
    this.#claimed.delete(key);
    if (lease !== undefined) await this.#ownership?.release(lease);
  }

  async #stopRunner(key: string): Promise<void> {
    const drain = this.#drains.get(key);
    this.#drains.delete(key);
    await drain?.stop();
    const runner = this.runners.get(key);
    this.#unmounts.get(key)?.();
    this.#unmounts.delete(key);
    if (!runner) return;
    this.runners.delete(key);
    await runner.stop();
    if (runner.account.token) this.#leases.release(runner.account.token, key);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...new Set([...this.runners.keys(), ...this.#drains.keys()])].map((k) => this.stop(k)));
  }

  /**
   * Applies a new account list for the `changed` channels: accounts whose fingerprint
   * changed (or that went away) stop, new or changed ones start; the rest keep running.
   */
  async reload(next: ChannelAccount[], changed: ReadonlySet<string>, run: boolean): Promise<void> {
    const before = new Map(this.list.map((a) => [accountKey(a.channel, a.accountId), a]));
    const after = new Map(next.map((a) => [accountKey(a.channel, a.accountId), a]));
    this.list = next;
    if (!run) return;
    for (const [key, old] of before) {
      if (!changed.has(old.channel)) continue;
      const now = after.get(key);
      if (!now || now.fingerprint !== old.fingerprint) {
        this.loggedOut.delete(key);
        await this.stop(key);
        this.notRunning.delete(key);
      }
    }
    for (const [key, a] of after) {
      if (!changed.has(a.channel)) continue;
      const old = before.get(key);
      if (!old || old.fingerprint !== a.fingerprint) await this.start(a);
    }
  }

  /** Runtime snapshots by channel (listed accounts only). */
  snapshots(idleReason: string): Record<string, AccountSnapshot[]> {
    const out: Record<string, AccountSnapshot[]> = {};
    for (const a of this.list) {
      const key = accountKey(a.channel, a.accountId);
      const runner = this.runners.get(key);
      const idle = (): AccountSnapshot => ({ ...idleSnapshot(a, this.notRunning.get(key) ?? idleReason), queueDepth: this.#drains.get(key)?.snapshot().queueDepth ?? 0 });
      (out[a.channel] ??= []).push(runner ? runner.snapshot() : idle());
    }
    return out;
  }
}

/** The access policy of a WhatsApp account in the current config (the start-time one if it vanished). */
function liveWhatsAppAccess(channels: unknown, stateDir: string, a: ChannelAccount): ChannelAccount["access"] {
  return resolveWhatsAppAccounts(channels, stateDir).find((x) => x.accountId === a.accountId)?.access ?? a.access;
}
