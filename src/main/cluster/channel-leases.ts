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
 *   release   on stop: KV delete at our revision, after the worker exited and any renewal in
 *             flight landed (immediate handover); a take that lands after release is deleted
 *
 * Gateways that do not hold a lease try to take it every L/3, so an owner killed with
 * SIGKILL is replaced within about L + L/3 (docs/cluster.md).
 *
 * `send` and reply-chunk keys are claimed in the dedupe bucket (`once`), so a retry that
 * crosses a failover is not sent again by the new owner, whose outbox never saw the key; an
 * inbound message the platform re-delivers to the new owner is skipped once handled
 * (`shouldHandle`). Replies to messages left in the local queue of a gateway that no longer
 * runs the account travel to the owner as forwarded sends under their reply-chunk keys.
 */
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { GatewayError, type WireError } from "../../shared/errors.js";
import type { ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import type { AccountOwnership, ForwardedSend, OwnershipHandlers } from "../channels/account-ownership.js";
import type { SharedIdempotency } from "../agents/shared-idempotency.js";
import type { ClusterApi } from "./cluster-module.js";
import type { GatewayRpc } from "./gateway-rpc.js";
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
  /** The renewal in flight (release waits for it, so it deletes at the latest revision). */
  inflight: Promise<void> | undefined;
  released: boolean;
  timer: NodeJS.Timeout;
}

/** The gateway RPC operation a forwarded `send` travels as (gateway-rpc.ts). */
export const CHANNEL_SEND_OP = "channel.send";

/** What `ChannelLeases` works with. */
export interface ChannelLeasesDeps {
  cluster: ClusterApi;
  /** Cross-gateway calls (the `cluster-rpc` module's api): forwarded sends. */
  rpc: GatewayRpc;
  log: Logger;
  /** The shared idempotency store, when loaded (read at each send). Default: none. */
  dedupe?: () => SharedIdempotency | undefined;
}

const encoder = new TextEncoder();

/** Leases of this gateway's channel accounts. */
export class ChannelLeases implements AccountOwnership {
  #kv: KV | null = null;
  readonly #claims = new Map<string, Claim>();
  #serve: ((s: ForwardedSend) => Promise<ChannelSendResult>) | undefined;
  #closed = false;
  /** Lease takes and losses since start (health, tests). */
  readonly counters = { taken: 0, lost: 0, released: 0 };

  private readonly cluster: ClusterApi;
  private readonly rpc: GatewayRpc;
  private readonly log: Logger;
  private readonly dedupe: () => SharedIdempotency | undefined;

  constructor(d: ChannelLeasesDeps) {
    this.cluster = d.cluster;
    this.rpc = d.rpc;
    this.log = d.log;
    this.dedupe = d.dedupe ?? (() => undefined);
  }

  get #leaseMs(): number {
    return this.cluster.options.channelLeaseMs;
  }

  get #me(): string {
    return this.cluster.options.gatewayId;
  }

  /** Serves forwarded sends; opens the bucket at every (re)connect. */
  start(): void {
    this.rpc.handle(CHANNEL_SEND_OP, (params) => {
      if (this.#serve === undefined) throw new GatewayError("GW_ERR_CHANNEL_NOT_RUNNING", "channels are not running on this gateway");
      return this.#serve(params as ForwardedSend);
    });
    this.cluster.connection.onConnected(async (h) => {
      this.#kv = await h.kvm.create(this.cluster.names.buckets.leases, { history: 1, ttl: this.#leaseMs });
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
    const c: Claim = { key: leaseKey, handlers, held: false, rev: 0, sentAt: 0, holder: undefined, busy: false, inflight: undefined, released: false, timer: setInterval(() => void this.#tick(c), every) };
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
    // A renewal in flight would move the revision under the delete (which then fails and
    // leaves the lease to expire, L later instead of at once): let it land first.
    await c.inflight?.catch(() => undefined);
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
    if (holder === undefined) throw clusterUnavailable(`send on ${send.channel} account ${send.accountId}`);
    return this.rpc.request<ChannelSendResult>(holder, CHANNEL_SEND_OP, send, this.cluster.options.requestTimeoutMs);
  }

  async once(key: string, send: () => Promise<ChannelSendResult>): Promise<ChannelSendResult> {
    const d = this.dedupe();
    if (d === undefined) return send();
    const k = `channel:${key}`;
    let claim;
    for (let round = 0; ; round++) {
      try {
        claim = await d.claim(k, undefined);
      } catch (err) {
        // Broker unreachable: the local outbox still sends once per key here (a reply must not
        // be dropped for want of the shared record); only a concurrent failover could repeat it.
        this.log.warn({ key, err: String(err) }, "cluster: send key not claimed in the shared store; sending under the local outbox only");
        return send();
      }
      if (claim.won || claim.final !== undefined || claim.owner === this.#me || round > 0) break;
      // In flight on another gateway — typically the previous owner of the account, whose
      // worker died under the send as the lease moved. Wait for its outcome: a failure that
      // never reached the platform releases the key (then claim it here), a result answers.
      const f = await d.awaitFinal(k, this.cluster.options.requestTimeoutMs);
      if (f === undefined) break;
      if (f !== null) {
        claim = { won: false as const, final: f, ack: undefined, owner: claim.owner };
        break;
      }
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

  async whenShared(signal?: AbortSignal): Promise<void> {
    // Polled: the dedupe bucket opens in another module's connect handler. Ends at `close`.
    while (!this.#closed && signal?.aborted !== true && !(this.#kv !== null && this.cluster.connection.available() && (this.dedupe()?.ready?.() ?? true))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  serveSends(handler: (send: ForwardedSend) => Promise<ChannelSendResult>): void {
    this.#serve = handler;
  }

  /** Stops renewing (the module's stop; accounts release their leases as they stop first). */
  close(): void {
    this.#closed = true;
    for (const c of this.#claims.values()) clearInterval(c.timer);
  }

  async #tick(c: Claim): Promise<void> {
    if (c.busy || c.released) return;
    c.busy = true;
    const renewing = c.held;
    const step = renewing ? this.#renew(c) : this.#take(c);
    if (renewing) c.inflight = step;
    try {
      await step;
    } finally {
      c.busy = false;
      if (c.inflight === step) c.inflight = undefined;
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
    if (c.released) {
      // Released while the take was in flight: hand the lease straight back.
      await withTimeout(kv.delete(c.key, { previousSeq: c.rev }), this.#leaseMs / 4, `lease ${c.key}`).catch(() => undefined);
      return;
    }
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
