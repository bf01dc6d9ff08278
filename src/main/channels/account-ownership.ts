/**
 * The injection point through which several gateways sharing one config agree on which of
 * them runs each channel account (the cluster's lease bucket,
 * src/main/cluster/channel-leases.ts). Without one every configured account runs here, as
 * on a single gateway.
 *
 * With one, an account runs only while this gateway holds its lease: `claim` competes for it
 * and calls `run` on acquiring it, `halt` when the lease can no longer be proven (the
 * implementation calls it early enough that the worker is gone before anyone else may take
 * over: never two pollers of one bot token, never two sockets of one WhatsApp account).
 * Sends for an account another gateway runs are forwarded to that gateway, and so are the
 * replies to messages left in this gateway's local queue of such an account (account-runner.ts).
 */
import { createHash } from "node:crypto";
import type { ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import type { ChannelAccount } from "./channel-config.js";

/** What the account's runner does when ownership changes. */
export interface OwnershipHandlers {
  /** This gateway now holds the lease: start the worker. */
  run(): Promise<void>;
  /** The lease is lost or about to be: resolve once the worker has exited. */
  halt(): Promise<void>;
}

/** A `send` run on the account's owner for a caller on another gateway. */
export interface ForwardedSend {
  channel: string;
  accountId: string;
  /** Outbox key (`send:<idempotencyKey>`, …): the owner sends once per key. */
  key: string;
  to: string;
  text: string;
  threadId?: string;
  /** Media references (http(s) URL, file: URL, absolute path), sent in order; the first carries `text` as its caption when it fits. */
  media?: string[];
  /** WhatsApp: videos play as GIFs. */
  gifPlayback?: boolean;
  /** The media came from a model's reply (`MEDIA:` lines): public http(s) URLs only. */
  mediaUntrusted?: boolean;
  /** A `send` RPC's session: once delivered, the text is mirrored into its transcript (§3.4). */
  mirrorInto?: string;
}

/** Ownership of channel accounts across gateways. */
export interface AccountOwnership {
  /** Competes for `leaseKey` until `release`; `handlers` follow the lease. */
  claim(leaseKey: string, handlers: OwnershipHandlers): void;
  /** Stops competing; call after the worker stopped. Frees the lease for another gateway at once. */
  release(leaseKey: string): Promise<void>;
  /** The gateway holding `leaseKey` as last seen, or undefined. */
  holder(leaseKey: string): string | undefined;
  /** Runs a send on the gateway holding `leaseKey`; rejects GW_ERR_CLUSTER_UNAVAILABLE when it cannot be reached. */
  forwardSend(leaseKey: string, send: ForwardedSend): Promise<ChannelSendResult>;
  /**
   * Runs `send` at most once per `key` across the cluster: the outbox dedupes per gateway,
   * this also spans a failover of the account to another gateway.
   */
  once(key: string, send: () => Promise<ChannelSendResult>): Promise<ChannelSendResult>;
  /**
   * Whether this gateway should handle inbound message `key` (`<channel>:<account>:<messageId>`):
   * false only when a gateway already handled it (the platform re-delivered it to a new owner
   * after a failover). One still in progress elsewhere is handled again: its owner lost the
   * account, so its processing ended; replies stay once-only through `once`.
   */
  shouldHandle(key: string): Promise<boolean>;
  /** Inbound message `key` was handled (its reply sent or given up). */
  handled(key: string): void;
  /**
   * Resolves once `shouldHandle` answers from the shared store (the broker reached since
   * start). Entries replayed at start-up wait for it, so that a message another gateway
   * already handled is not handled again for want of the record. Resolves early when
   * `signal` aborts.
   */
  whenShared(signal?: AbortSignal): Promise<void>;
  /** Serves the sends other gateways forward to this one. */
  serveSends(handler: (send: ForwardedSend) => Promise<ChannelSendResult>): void;
}

/**
 * The lease of an account: Telegram by bot token (one poller per token, whatever account id
 * names it), other channels by account id. Tokens appear only hashed.
 */
export function accountLeaseKey(a: Pick<ChannelAccount, "channel" | "accountId" | "token">): string {
  if (a.channel === "telegram" && a.token) return `telegram.${createHash("sha256").update(a.token).digest("hex").slice(0, 40)}`;
  return `${a.channel}.${Buffer.from(a.accountId, "utf8").toString("base64url")}`;
}
