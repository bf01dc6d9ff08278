/**
 * Delivery of one reply chunk of an inbound message, once under its outbox key: through the
 * account's worker on this gateway, or — while none runs here (cluster) — forwarded to the
 * gateway that runs the account. Split out of the account runner, which supplies its state
 * through `ReplyDeliveryDeps`.
 */
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import type { Outbox } from "../../shared/store/outbox.js";
import type { ChannelInbound, ChannelSendParams, ChannelSendResult } from "../../workers/channels/channel-link-protocol.js";
import type { AccountLink } from "./account-link.js";
import type { AccountOwnership, ForwardedSend } from "./account-ownership.js";
import type { ChannelAccount } from "./channel-config.js";

/** One message of a reply: a text chunk, or a medium from a `MEDIA:` line (untrusted: public http(s) only). */
export interface ReplyPart {
  text: string;
  media?: string;
}

/** Times a reply chunk lost with a dying worker is sent again under a new outbox key. */
const MAX_WORKER_RETRIES = 3;

/** What delivering needs from the account's runner. */
export interface ReplyDeliveryDeps {
  account: ChannelAccount;
  log: Logger;
  outbox: Outbox;
  /** Cluster: each key sent once across gateways. */
  ownership?: Pick<AccountOwnership, "once">;
  /** Cluster: sends through the gateway that runs the account (used while no worker runs here). */
  forward?: (send: ForwardedSend) => Promise<ChannelSendResult>;
  /** The account's worker here, or null while none runs here. */
  link(): AccountLink | null;
  /** Sends one message through the live worker. */
  sendOne(p: ChannelSendParams): Promise<ChannelSendResult>;
  /** Throws once the runner stops (the entry is handled at the next start). */
  throwIfStopped(): void;
  /** Sleeps `ms` (null: until woken); a worker starting or the runner stopping wakes it. */
  nap(ms: number | null): Promise<void>;
}

/**
 * Sends one reply chunk once under `key`: through the worker here, or — while none runs
 * here — forwarded to the account's owner, retried with backoff while the owner is unknown
 * or unreachable. Resolves once sent or refused for good (logged); rejects only when the
 * runner stops, leaving the entry for the next start.
 */
export async function deliverReplyChunk(d: ReplyDeliveryDeps, key: string, m: ChannelInbound, part: ReplyPart): Promise<void> {
  const thread = m.threadId !== undefined ? { threadId: m.threadId } : {};
  const media = part.media !== undefined ? { mediaUntrusted: true } : {};
  const shared = d.ownership;
  let workerRetries = 0;
  for (let attempt = 0; ; attempt++) {
    d.throwIfStopped();
    const sup = d.link();
    const forward = d.forward;
    if (sup !== null) {
      // Wait for a live worker before the outbox records an attempt (a send refused for want
      // of a worker would otherwise be cached as failed).
      const attemptKey = workerRetries === 0 ? key : `${key}:r${workerRetries}`;
      while (!d.outbox.has(attemptKey)) {
        await sup.whenRunning();
        if (sup.getState().state === "running") break;
      }
      const sendChunk = (): Promise<ChannelSendResult> => d.outbox.run(attemptKey, () => d.sendOne({ to: m.chatId, text: part.text, ...thread, ...(part.media !== undefined ? { media: part.media } : {}), ...media }));
      const settled = await (shared !== undefined ? shared.once(key, sendChunk) : sendChunk()).then(
        () => true,
        (err: unknown) => {
          // The worker died under the send (a crash racing the reply, e.g. a 409 while it
          // confirmed the update): the outbox records that attempt as failed, so the reply
          // is sent again under a new outbox key once a worker runs — at least once, never
          // lost. The cluster-wide claim stays on `key` (released by the failure), so a
          // gateway answering the same message after a failover races for the same claim.
          // Had the platform accepted the dying worker's request, the chat sees it twice.
          if (err instanceof GatewayError && (err.code.startsWith("GW_ERR_WORKER") || err.code === "GW_ERR_CHANNEL_NOT_RUNNING") && workerRetries < MAX_WORKER_RETRIES) return false;
          undelivered(d, attemptKey, err);
          return true;
        },
      );
      if (settled) return;
      workerRetries++;
      d.log.warn({ key, retry: workerRetries }, "reply chunk lost with its worker; sending again once the worker runs");
      continue;
    }
    if (forward === undefined) {
      // Replayed before `start` created the worker: wait for it.
      await d.nap(null);
      continue;
    }
    try {
      const a = d.account;
      await forward({ channel: a.channel, accountId: a.accountId, key, to: m.chatId, text: part.text, ...thread, ...(part.media !== undefined ? { media: [part.media] } : {}), ...media });
      return;
    } catch (err) {
      // UNAVAILABLE, unreachable, not running there (yet): the owner may change; never drop.
      if (!(err instanceof GatewayError && err.retryable)) return undelivered(d, key, err);
      const ms = Math.min(250 * 2 ** Math.min(attempt, 5), 8000);
      d.log.debug({ key, err: String(err), retryInMs: ms }, "reply chunk not forwarded to the account's owner yet; retrying");
      await d.nap(ms);
    }
  }
}

function undelivered(d: ReplyDeliveryDeps, key: string, err: unknown): void {
  d.log.warn({ err: String(err), account: d.account.accountId, key }, "reply chunk not delivered");
}
