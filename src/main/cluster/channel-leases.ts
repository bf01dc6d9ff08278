/**
 * Channel account leases in the leases KV bucket (`AccountOwnership`, account-ownership.ts):
 * exactly one gateway runs each account (one Telegram poller per bot token, one WhatsApp
 * socket per account), and `send` on any other gateway is forwarded to it.
 *
 * The bucket's TTL is the lease time L (`gateway.cluster.channelLeaseMs`), counted by the
 * broker from each write, so a lease nobody renews disappears by itself — no clock is
 * compared across machines.
 *
 *   take      KV create (only when the key is absent: never before the holder's lease expired)
 *   renew     every L/3: KV update at the revision this gateway wrote last (fails if anyone
 *             else wrote since); each attempt gives up after L/4
 *   give up   the first renewal that fails, or none acknowledged for L/2: the worker is
 *             halted at once. The broker keeps the lease for L after the last write it
 *             stored, which is after this gateway sent it, so the worker stops with ≥ L/2
 *             to spare before anyone can take over — never two pollers.
 *   release   on stop: KV delete at our revision, after the worker exited (immediate handover)
 *
 * Gateways that do not hold a lease try to take it every L/3, so an owner killed with
 * SIGKILL is replaced within about L + L/3 (docs/cluster.md).
 *
 * `send` and reply-chunk keys are claimed in the dedupe bucket (`once`), so a retry that
 * crosses a failover is not sent again by the new owner, whose outbox never saw the key; an
 * inbound message the platform re-delivers to the new owner is skipped once handled
 * (`shouldHandle`).
 */
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { GatewayError, type WireError } from "../../shared/errors.js";
import type { ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import type { AccountOwnership, ForwardedSend, OwnershipHandlers } from "../channels/account-ownership.js";
import type { SharedIdempotency } from "../agents/shared-idempotency.js";
import type { ClusterApi } from "./cluster-module.js";
import { clusterUnavailable, isWrongRevision, withTimeout } from "./kv-helpers.js";

/** What a lease key holds. */
interface LeaseRecord {
  holder: string;
  at: number;
}

interface Claim {
  readonly key: string;
  readonly handlers: OwnershipHandlers;
  held: boolean;
  /** Revision of our last acknowledged write (while held). */
  rev: number;
  /** When our last acknowledged write was sent (while held). */
  sentAt: number;
  /** Holder as last seen (us while held). */
  holder: string | undefined;
  /** A take/renew/halt is running: ticks skip. */
  busy: boolean;
  released: boolean;
  timer: NodeJS.Timeout;
}

type ForwardReply = { ok: true; result: ChannelSendResult } | { ok: false; error: WireError };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Leases of this gateway's channel accounts. */
export class ChannelLeases implements AccountOwnership {
  #kv: KV | null = null;
  readonly #claims = new Map<string, Claim>();
  #serve: ((s: ForwardedSend) => Promise<ChannelSendResult>) | undefined;
  #subscribed = false;
  /** Lease takes and losses since start (health, tests). */
  readonly counters = { taken: 0, lost: 0, released: 0 };

  /** @param dedupe the shared idempotency store, when loaded (read at each send) */
  constructor(
    private readonly cluster: ClusterApi,
    private readonly log: Logger,
    private readonly dedupe: () => SharedIdempotency | undefined = () => undefined,
  ) {}

  get #leaseMs(): number {
    return this.cluster.options.channelLeaseMs;
  }

  get #me(): string {
    return this.cluster.options.gatewayId;
  }

  /** Opens the bucket and the forwarded-send subscription at every (re)connect. */
  start(): void {
    this.cluster.connection.onConnected(async (h) => {
      this.#kv = await h.kvm.create(this.cluster.names.buckets.leases, { history: 1, ttl: this.#leaseMs });
      // nats.js re-establishes subscriptions itself after a reconnect.
      if (this.#subscribed) return;
      this.#subscribed = true;
      h.nc.subscribe(this.cluster.names.channelSend(this.#me), {
        callback: (err, msg) => {
          if (err) return;
          void this.#answer(msg.data).then((reply) => msg.respond(encoder.encode(JSON.stringify(reply))));
        },
      });
    });
  }

  /** Bucket open (health). */
  get ready(): boolean {
    return this.#kv !== null;
  }

  /** Lease keys this gateway holds now. */
  held(): string[] {
    return [...this.#claims.values()].filter((c) => c.held).map((c) => c.key);
  }

  claim(leaseKey: string, handlers: OwnershipHandlers): void {
    if (this.#claims.has(leaseKey)) return;
    const every = Math.max(50, Math.floor(this.#leaseMs / 3));
    const c: Claim = { key: leaseKey, handlers, held: false, rev: 0, sentAt: 0, holder: undefined, busy: false, released: false, timer: setInterval(() => void this.#tick(c), every) };
    c.timer.unref();
    this.#claims.set(leaseKey, c);
    void this.#tick(c);
  }

  async release(leaseKey: string): Promise<void> {
    const c = this.#claims.get(leaseKey);
    if (c === undefined) return;
    c.released = true;
    clearInterval(c.timer);
    this.#claims.delete(leaseKey);
    if (!c.held) return;
    c.held = false;
    this.counters.released += 1;
    const kv = this.#kv;
    if (kv === null || !this.cluster.connection.available()) return; // it expires by itself
    await withTimeout(kv.delete(leaseKey, { previousSeq: c.rev }), this.#leaseMs / 4, `lease ${leaseKey}`).catch((err: unknown) =>
      this.log.debug({ lease: leaseKey, err: String(err) }, "cluster: lease release failed; it expires by itself"),
    );
  }

  holder(leaseKey: string): string | undefined {
    const c = this.#claims.get(leaseKey);
    return c?.held ? this.#me : c?.holder;
  }

  async forwardSend(leaseKey: string, send: ForwardedSend): Promise<ChannelSendResult> {
    const holder = this.holder(leaseKey);
    const h = this.cluster.connection.current();
    if (holder === undefined || h === null) throw clusterUnavailable(`send on ${send.channel} account ${send.accountId}`);
    let raw: Uint8Array;
    try {
      const msg = await h.nc.request(this.cluster.names.channelSend(holder), encoder.encode(JSON.stringify(send)), { timeout: this.cluster.options.requestTimeoutMs });
      raw = msg.data;
    } catch (err) {
      throw clusterUnavailable(`send on ${send.channel} account ${send.accountId} (via gateway ${holder})`, err);
    }
    const reply = JSON.parse(decoder.decode(raw)) as ForwardReply;
    if (!reply.ok) throw GatewayError.fromWire(reply.error);
    return reply.result;
  }

  async once(key: string, send: () => Promise<ChannelSendResult>): Promise<ChannelSendResult> {
    const d = this.dedupe();
    if (d === undefined) return send();
    const k = `channel:${key}`;
    let claim;
    try {
      claim = await d.claim(k, undefined);
    } catch (err) {
      // Broker unreachable: the local outbox still sends once per key here (a reply must not
      // be dropped for want of the shared record); only a concurrent failover could repeat it.
      this.log.warn({ key, err: String(err) }, "cluster: send key not claimed in the shared store; sending under the local outbox only");
      return send();
    }
    // This gateway's own earlier claim: its outbox knows the key and answers for it.
    if (!claim.won && !(claim.owner === this.#me && claim.final === undefined)) {
      const f = claim.final;
      if (f === undefined) {
        throw new GatewayError("GW_ERR_CHANNEL_OUTCOME_UNKNOWN", `send ${key} is in flight or was interrupted on gateway ${claim.owner ?? "?"}; it is not sent again`, { idempotencyKey: key });
      }
      if (f.ok) return f.payload as ChannelSendResult;
      throw GatewayError.fromWire(f.payload as WireError);
    }
    try {
      const result = await send();
      d.settle(k, { ok: true, payload: result });
      return result;
    } catch (err) {
      // A refusal is the answer for this key (as in the outbox); a retryable failure may be retried.
      if (err instanceof GatewayError && !err.retryable) d.settle(k, { ok: false, payload: err.toWire() });
      else d.release(k);
      throw err;
    }
  }

  async shouldHandle(key: string): Promise<boolean> {
    const d = this.dedupe();
    if (d === undefined) return true;
    const claim = await d.claim(`inbound:${key}`, undefined);
    return claim.won || claim.final === undefined;
  }

  handled(key: string): void {
    this.dedupe()?.settle(`inbound:${key}`, { ok: true, payload: null });
  }

  serveSends(handler: (send: ForwardedSend) => Promise<ChannelSendResult>): void {
    this.#serve = handler;
  }

  /** Stops renewing (the module's stop; accounts release their leases as they stop first). */
  close(): void {
    for (const c of this.#claims.values()) clearInterval(c.timer);
  }

  async #answer(data: Uint8Array): Promise<ForwardReply> {
    try {
      if (this.#serve === undefined) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", "channels are not running on this gateway");
      const send = JSON.parse(decoder.decode(data)) as ForwardedSend;
      return { ok: true, result: await this.#serve(send) };
    } catch (err) {
      const wire: WireError = err instanceof GatewayError ? err.toWire() : { code: "GW_ERR_CHANNEL_SEND_FAILED", message: String(err) };
      return { ok: false, error: wire };
    }
  }

  async #tick(c: Claim): Promise<void> {
    if (c.busy || c.released) return;
    c.busy = true;
    try {
      if (c.held) await this.#renew(c);
      else await this.#take(c);
    } finally {
      c.busy = false;
    }
  }

  #record(): Uint8Array {
    const r: LeaseRecord = { holder: this.#me, at: Date.now() };
    return encoder.encode(JSON.stringify(r));
  }

  async #take(c: Claim): Promise<void> {
    const kv = this.#kv;
    if (kv === null || !this.cluster.connection.available()) return;
    const sentAt = Date.now();
    try {
      c.rev = await withTimeout(kv.create(c.key, this.#record()), this.#leaseMs / 4, `lease ${c.key}`);
    } catch (err) {
      if (isWrongRevision(err)) {
        const e = await kv.get(c.key).catch(() => null);
        if (e?.operation === "PUT") {
          try {
            c.holder = (e.json<LeaseRecord>()).holder;
          } catch {
            c.holder = undefined;
          }
        }
      }
      return;
    }
    if (c.released) return;
    c.held = true;
    c.sentAt = sentAt;
    c.holder = this.#me;
    this.counters.taken += 1;
    this.log.info({ lease: c.key }, "cluster: channel account lease taken; starting its worker");
    // Renewals go on while the worker starts.
    c.busy = false;
    await c.handlers.run().catch((err: unknown) => this.log.warn({ lease: c.key, err: String(err) }, "cluster: channel account did not start under its lease"));
  }

  async #renew(c: Claim): Promise<void> {
    const kv = this.#kv;
    const sentAt = Date.now();
    if (kv !== null && this.cluster.connection.available() && sentAt - c.sentAt < this.#leaseMs / 2) {
      try {
        c.rev = await withTimeout(kv.update(c.key, this.#record(), c.rev), this.#leaseMs / 4, `lease ${c.key}`);
        c.sentAt = sentAt;
        return;
      } catch (err) {
        this.log.warn({ lease: c.key, err: String(err) }, "cluster: channel account lease not renewed");
      }
    }
    await this.#lose(c);
  }

  async #lose(c: Claim): Promise<void> {
    c.held = false;
    c.holder = undefined;
    this.counters.lost += 1;
    this.log.warn({ lease: c.key }, "cluster: channel account lease lost; stopping its worker before it expires");
    await c.handlers.halt().catch((err: unknown) => this.log.error({ lease: c.key, err: String(err) }, "cluster: stopping a worker after its lease was lost failed"));
  }
}
