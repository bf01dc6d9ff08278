/**
 * One channel account: its supervised worker, its durable inbound queue, the hand-off to the
 * inbound handler and the replies.
 *
 *   worker ──inbound──► access control ──► queue.accept (fsync) ──► answer (worker acks platform)
 *                                                   └──► per-chat chain: handler → markHandled
 *                                                          → reply chunks via outbox → markDone
 *                                                            (reply-delivery.ts)
 *
 * Per chat, messages are handled in arrival order; chats run concurrently. A reply chunk is
 * sent under the outbox key `reply:<channel>:<account>:<messageId>:<n>`, so replaying a
 * half-finished entry after a crash never sends a chunk twice. Under a cluster ownership the
 * same holds across gateways: a message re-delivered to a new owner after a failover is not
 * handled again once handled, and a reply chunk key is sent once cluster-wide.
 *
 * Under a cluster ownership a runner can also run without its worker (`openQueue` only):
 * the account runs on another gateway, and this one still owes the entries left in its
 * local queue (it was killed after confirming them to the platform, or lost the lease
 * mid-work). They are handled here and their reply chunks forwarded to the owner (`forward`),
 * retried with backoff while no owner answers; the runner becomes the account's ordinary
 * runner when this gateway takes the lease (`start`).
 */
import { join } from "node:path";
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import { splitMediaDirectives } from "../../shared/run-directives.js";
import { InboundQueue, type PendingInbound } from "../../shared/store/inbound-queue.js";
import type { Outbox } from "../../shared/store/outbox.js";
import type { ChannelInbound, ChannelSendParams, ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import type { AccountLink, CreateAccountLink } from "./account-link.js";
import { decideAccess } from "./access-control.js";
import type { ChannelAccount } from "./channel-config.js";
import { pairingReplyText, type ChannelPairingStore } from "./channel-pairing-store.js";
import { inboundSessionKey, type AccountSnapshot, type InboundHandler } from "./channel-types.js";
import { CHANNEL_CAPTION_LIMITS, CHANNEL_TEXT_LIMITS, chunkText } from "./chunk-text.js";
import type { AccountOwnership, ForwardedSend } from "./account-ownership.js";
import { idleSnapshot } from "./account-snapshot.js";
import { deliverReplyChunk, type ReplyDeliveryDeps } from "./reply-delivery.js";

/** What one `send` delivers: text, media or both, to one target. */
export type OutboundMessage = Pick<ForwardedSend, "to" | "text" | "threadId" | "media" | "gifPlayback" | "mediaUntrusted">;

/** What a runner needs from the module. */
export interface AccountRunnerDeps {
  account: ChannelAccount;
  stateDir: string;
  log: Logger;
  handler: InboundHandler;
  outbox: Outbox;
  pairing: ChannelPairingStore;
  /** The account's supervised worker (per channel; see account-link.ts). */
  link: CreateAccountLink;
  /** fsync the inbound queue (default true; false only for benchmarks). */
  queueFsync?: boolean;
  /** Several gateways share the account (cluster): inbound handled and replies sent once across them. Default: none. */
  ownership?: Pick<AccountOwnership, "shouldHandle" | "handled" | "once" | "whenShared">;
  /**
   * Sends a reply chunk through the gateway that runs the account, while no worker runs
   * here (cluster; the owner sends once per key). Default: none (replies wait for the worker).
   */
  forward?: (send: ForwardedSend) => Promise<ChannelSendResult>;
  /** The access policy, read per message (channels whose config is read live). Default: the account's, fixed at start. */
  access?: () => Promise<ChannelAccount["access"]>;
}

export class AccountRunner {
  readonly key: string;
  readonly account: ChannelAccount;
  readonly #d: AccountRunnerDeps;
  #queue: InboundQueue<ChannelInbound> | null = null;
  #sup: AccountLink | null = null;
  readonly #chats = new Map<string, Promise<void>>();
  #stopped = false;
  #opening: Promise<void> | null = null;
  /** Wakes chains sleeping between forward attempts (a worker started here, or stop). */
  readonly #wakers = new Set<() => void>();
  /** Aborted at `stop`. */
  readonly #stopping = new AbortController();
  readonly snap: AccountSnapshot;
  readonly #delivery: ReplyDeliveryDeps;

  constructor(deps: AccountRunnerDeps) {
    this.#d = deps;
    this.account = deps.account;
    this.key = `${deps.account.channel}:${deps.account.accountId}`;
    this.#delivery = {
      account: deps.account,
      log: deps.log,
      outbox: deps.outbox,
      ...(deps.ownership !== undefined ? { ownership: deps.ownership } : {}),
      ...(deps.forward !== undefined ? { forward: deps.forward } : {}),
      link: () => this.#sup,
      sendOne: (p) => this.#sendOne(p),
      throwIfStopped: () => this.#throwIfStopped(),
      nap: (ms) => this.#nap(ms),
    };
    this.snap = idleSnapshot(deps.account, null, deps.account.channel !== "telegram" ? null : deps.account.webhookUrl ? "webhook" : "polling");
  }

  /** The supervised worker (null before start). */
  get supervisor(): AccountLink | null {
    return this.#sup;
  }

  /** Snapshot with live worker/queue fields. */
  snapshot(): AccountSnapshot {
    const st = this.#sup?.getState();
    if (st) this.snap.worker = { state: st.state, generation: st.generation, restarts: st.restarts };
    this.snap.queueDepth = this.#queue?.depth ?? 0;
    return { ...this.snap };
  }

  /** The account's inbound queue file under `stateDir`. */
  static queueFile(stateDir: string, a: Pick<ChannelAccount, "channel" | "accountId">): string {
    return join(stateDir, "channels", a.channel, a.accountId, "inbound.jsonl");
  }

  /** Opens the queue and replays what is pending, without a worker (once; later calls wait for the first). */
  openQueue(): Promise<void> {
    this.#opening ??= (async () => {
      this.#queue = await InboundQueue.open<ChannelInbound>(AccountRunner.queueFile(this.#d.stateDir, this.account), { fsync: this.#d.queueFsync });
      for (const p of this.#queue.pending()) this.#schedule(p, true);
    })();
    return this.#opening;
  }

  /** Opens the queue (if `openQueue` did not), replays what is pending and starts the worker (not awaiting it). */
  async start(): Promise<void> {
    const { account: a, log } = this.#d;
    await this.openQueue();
    const wlog = log.child({ channel: a.channel, account: a.accountId });
    const sup = this.#d.link(
      {
        inbound: (m) => this.#inbound(m),
        state: (s) => {
          if (s.bot) this.snap.bot = s.bot;
          if (s.mode) this.snap.mode = s.mode;
          if (s.linked !== undefined) this.snap.linked = s.linked;
          if (s.connected === true && !this.snap.connected) this.snap.lastConnectedAt = Date.now();
          if (s.connected !== undefined) this.snap.connected = s.connected;
          if (s.lastError !== undefined) this.snap.lastError = s.lastError;
          if (s.lastDisconnect) this.snap.lastDisconnect = s.lastDisconnect;
        },
      },
      wlog,
    );
    sup.onStateChange((st) => {
      this.snap.reconnectAttempts = st.restarts;
      if (st.state === "backoff" || st.state === "broken") {
        if (this.snap.connected) this.snap.lastDisconnect = { at: Date.now(), ...(st.lastError ? { error: st.lastError } : {}) };
        this.snap.connected = false;
        this.snap.lastError = st.lastError;
      }
      if (st.state === "broken") this.snap.running = false;
    });
    this.#sup = sup;
    this.snap.running = true;
    this.snap.lastStartAt = Date.now();
    this.snap.lastError = null;
    sup.start().catch((err: unknown) => wlog.error({ err: String(err) }, "channel worker did not start"));
    this.#wake();
  }

  /** Stops the worker (awaits its exit) and closes the queue. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    this.#wake();
    await this.#sup?.stop(3000).catch(() => undefined);
    // Chains waiting for the worker give up (whenRunning rejects once stopped); let them settle.
    await Promise.allSettled([...this.#chats.values()]);
    await this.#queue?.close().catch(() => undefined);
    this.snap.running = false;
    this.snap.connected = false;
    this.snap.lastStopAt = Date.now();
  }

  /**
   * Sends `m` to `m.to` under an outbox key, through the live worker: its media in order (the
   * first captioned with the text when the text fits a caption), then the text chunked unless
   * it went out as a caption. `onDelivered` runs once everything is out, in the attempt that
   * sent it (not on replays). The result is the last message's.
   */
  async send(key: string, m: OutboundMessage, onDelivered?: () => void): Promise<ChannelSendResult> {
    // No worker: refuse without recording an attempt, so a retry under the key can still send.
    if (!this.#d.outbox.has(key) && this.#sup?.getState().state !== "running") {
      throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${this.account.channel} account ${this.account.accountId} is not running; retry later`, { account: this.account.accountId });
    }
    return this.#d.outbox.run(key, async () => {
      const channel = this.account.channel;
      const text = m.text.trim();
      const media = m.media ?? [];
      const captioned = media.length > 0 && text.length <= (CHANNEL_CAPTION_LIMITS[channel] ?? 1024);
      const extra = { ...(m.threadId !== undefined ? { threadId: m.threadId } : {}), ...(m.gifPlayback ? { gifPlayback: true } : {}) };
      const untrusted = m.mediaUntrusted ? { mediaUntrusted: true } : {};
      let last: ChannelSendResult | null = null;
      for (const [i, ref] of media.entries()) last = await this.#sendOne({ to: m.to, text: i === 0 && captioned ? text : "", media: ref, ...extra, ...untrusted });
      if (!captioned) for (const chunk of chunkText(text, CHANNEL_TEXT_LIMITS[channel] ?? 4000)) last = await this.#sendOne({ to: m.to, text: chunk, ...extra });
      if (!last) throw new GatewayError("GW_ERR_CHANNEL_SEND_FAILED", "nothing to send (empty message)");
      onDelivered?.();
      return last;
    });
  }

  async #sendOne(p: ChannelSendParams): Promise<ChannelSendResult> {
    const sup = this.#sup;
    if (!sup || this.#sup?.getState().state !== "running") {
      throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${this.account.channel} account ${this.account.accountId} is not running; retry later`, { account: this.account.accountId });
    }
    try {
      const r = await sup.send(p);
      this.snap.lastOutboundAt = Date.now();
      return r;
    } catch (err) {
      // Worker restarts and coded channel errors (WhatsApp NOT_LINKED) keep their code.
      if (err instanceof GatewayError && (err.code.startsWith("GW_ERR_WORKER") || err.code.startsWith("GW_ERR_WHATSAPP"))) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new GatewayError("GW_ERR_CHANNEL_SEND_FAILED", msg, { account: this.account.accountId }, { cause: err });
    }
  }

  /** The worker's `inbound` request: access control, then durable acceptance. */
  async #inbound(m: ChannelInbound): Promise<{ accepted: boolean }> {
    const queue = this.#queue;
    if (!queue || this.#stopped) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", "account stopping");
    this.snap.lastMessageAt = Date.now();
    const policy = this.#d.access ? await this.#d.access() : this.account.access;
    let decision = decideAccess(policy, m, []);
    if (decision.action !== "accept" && m.chatType === "direct" && policy.dmPolicy !== "disabled" && policy.dmPolicy !== "open") {
      decision = decideAccess(policy, m, await this.#d.pairing.approved());
    }
    if (decision.action === "drop") {
      this.#d.log.debug({ channel: this.account.channel, account: this.account.accountId, reason: decision.reason }, "inbound dropped");
      return { accepted: false };
    }
    if (decision.action === "pair") {
      const meta = { ...(m.senderUsername ? { username: m.senderUsername } : {}), ...(m.senderName ? { name: m.senderName } : {}) };
      const res = await this.#d.pairing.upsert(m.senderId, meta);
      if (res?.created) {
        const key = `pairing:${this.key}:${m.messageId}`;
        void this.send(key, { to: m.chatId, text: pairingReplyText(this.account.channel, res.request.code, m.senderId) }).catch((err: unknown) =>
          this.#d.log.warn({ err: String(err), account: this.account.accountId }, "pairing code reply failed"),
        );
      }
      return { accepted: false };
    }
    const accepted = await queue.accept(m.messageId, m);
    if (accepted) {
      this.snap.lastInboundAt = Date.now();
      this.#schedule({ id: m.messageId, msg: m, handled: null }, false);
    }
    return { accepted };
  }

  /** Queues `p` behind its chat's earlier messages; `replayed`: read back from the queue file. */
  #schedule(p: PendingInbound<ChannelInbound>, replayed: boolean): void {
    const chat = p.msg.chatId;
    const prev = this.#chats.get(chat) ?? Promise.resolve();
    const next = prev.then(() => this.#process(p, replayed)).catch((err: unknown) => {
      if (!this.#stopped) this.#d.log.error({ err: String(err), account: this.account.accountId, messageId: p.id }, "inbound processing failed; retried at next start");
    });
    this.#chats.set(chat, next);
    void next.then(() => {
      if (this.#chats.get(chat) === next) this.#chats.delete(chat);
    });
  }

  async #process(p: PendingInbound<ChannelInbound>, replayed: boolean): Promise<void> {
    const queue = this.#queue!;
    const a = this.account;
    let reply: string | null;
    const shared = this.#d.ownership;
    const sharedKey = `${this.key}:${p.id}`;
    if (!p.handled && shared !== undefined) {
      // Whether another gateway handled a replayed entry is known only from the shared store:
      // wait for it (a gateway just started may not have reached the broker yet). A message
      // accepted now came from this gateway's own poller: a broker blip must not hold it.
      if (replayed) {
        await shared.whenShared(this.#stopping.signal);
        this.#throwIfStopped();
      }
      if (!(await shared.shouldHandle(sharedKey).catch(() => true))) {
        await queue.markDone(p.id);
        return;
      }
    }
    if (p.handled) reply = p.handled.reply;
    else {
      const msg = { ...p.msg, channel: a.channel, accountId: a.accountId, sessionKey: inboundSessionKey(a.channel, p.msg), replyTo: { channel: a.channel, accountId: a.accountId, to: p.msg.chatId } };
      try {
        reply = (await this.#d.handler(msg))?.replyText ?? null;
      } catch (err) {
        this.#d.log.error({ err: String(err), account: a.accountId, messageId: p.id }, "inbound handler failed; no reply");
        reply = null;
      }
      await queue.markHandled(p.id, reply);
    }
    if (reply !== null && reply.trim() !== "") {
      // `MEDIA:<url>` lines go out as media after the text (public http(s) URLs only: the
      // model chose them, and a chat message can steer the model).
      const { text, mediaUrls } = splitMediaDirectives(reply);
      const chunks = chunkText(text, CHANNEL_TEXT_LIMITS[a.channel] ?? 4000);
      for (let i = 0; i < chunks.length; i++) await deliverReplyChunk(this.#delivery, `reply:${this.key}:${p.id}:${i}`, p.msg, { text: chunks[i]! });
      for (const [i, url] of mediaUrls.entries()) {
        if (!/^https?:\/\//i.test(url)) {
          this.#d.log.warn({ account: a.accountId, messageId: p.id, media: url }, "reply media is not an http(s) URL; not sent");
          continue;
        }
        await deliverReplyChunk(this.#delivery, `reply:${this.key}:${p.id}:m${i}`, p.msg, { text: "", media: url });
      }
    }
    await queue.markDone(p.id);
    shared?.handled(sharedKey);
  }

  /** Sleeps `ms` (null: until woken); a worker starting here or `stop` wakes it early. */
  #nap(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = ms === null ? undefined : setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const w of wakers) w();
  }

  #throwIfStopped(): void {
    if (this.#stopped) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", `${this.account.channel} account ${this.account.accountId} stopping; its pending messages are handled at the next start`);
  }
}
