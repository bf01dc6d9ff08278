/**
 * Telegram account worker (one per account, supervised by the channels module): grammY
 * against `apiRoot`, long polling (or webhook updates handed in by main), `send` (text or
 * media), `probe`.
 *
 * Polling and acknowledgement (`pollLoop`): the offset that confirms a batch (the next
 * getUpdates' `offset`) is sent only after main answered `inbound` for every update of the
 * batch, which it does once the message is fsync'd. The batch goes to main concurrently so
 * its appends share one group commit (grammY's built-in poller handles updates one by one,
 * one fsync each). A worker that dies before that never confirmed the batch: Telegram
 * re-delivers and main dedupes by message id.
 *
 * One poller per token: this worker polls only while it lives; main starts the next one
 * for the same token only after this thread exited (see main/channels/token-lease.ts).
 *
 * Crash contract: 401/409 from getUpdates, a failed `inbound` request, an uncaught
 * exception or an unhandled rejection end the thread with code 1; the supervisor restarts
 * it with the channel's backoff.
 */
import { workerData } from "node:worker_threads";
import { Bot, GrammyError } from "grammy";
import { connectWorker, isWorkerLinkData } from "../../../shared/ring/worker-link.js";
import type { WorkerEndpoint } from "../../../shared/ring/worker-link.js";
import type { ChannelLinkProtocol, ChannelLogLevel, ChannelProbe } from "../channel-link-protocol.js";
import { loadOutboundMedia } from "../outbound-media.js";
import { sendTelegramMedia } from "./telegram-media.js";
import { normalizeTelegramMessage, type TgMessage } from "./telegram-normalize.js";
import { TELEGRAM_MEDIA_MAX_BYTES, type TelegramWorkerData } from "./telegram-worker-data.js";

function die(err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`telegram worker: ${e.message}\n`);
  process.exit(1);
}
process.on("uncaughtException", die);
process.on("unhandledRejection", die);

const data = (isWorkerLinkData(workerData) ? workerData.user : undefined) as TelegramWorkerData;
const DEFAULT_API_ROOT = "https://api.telegram.org";
/** Long-poll state: the offset to confirm, and the abort of the poll in flight. */
let offset = 0;
let pollAbort: AbortController | null = null;
let polling: Promise<void> | null = null;

/** Sends retried on 429 at most this often, waiting `retry_after` (capped) between. */
const SEND_ATTEMPTS = 3;
const MAX_RETRY_AFTER_S = 30;

const bot = new Bot(data.token, { client: { apiRoot: data.apiRoot ?? DEFAULT_API_ROOT } });
let stopping = false;

const endpoint: WorkerEndpoint<ChannelLinkProtocol> = connectWorker<ChannelLinkProtocol>(
  {
    requests: {
      send: async (p) => {
        const opts = p.threadId !== undefined ? { message_thread_id: Number(p.threadId) } : {};
        // Media is loaded once, before the first attempt; a 429 retry uploads the same bytes.
        const media = p.media !== undefined ? await loadOutboundMedia(p.media, data.mediaMaxBytes ?? TELEGRAM_MEDIA_MAX_BYTES, { untrusted: p.mediaUntrusted === true, allowPrivateNetwork: data.mediaAllowPrivateNetwork === true }) : null;
        for (let attempt = 1; ; attempt++) {
          try {
            const m = media ? await sendTelegramMedia(bot.api, p.to, media, p.text, opts) : await bot.api.sendMessage(p.to, p.text, opts);
            return { messageId: String(m.message_id), chatId: String(m.chat.id) };
          } catch (err) {
            // 429: not delivered; wait as told and try again (a bounded number of times).
            const wait = err instanceof GrammyError && err.error_code === 429 ? (err.parameters.retry_after ?? 1) : null;
            if (wait === null || attempt >= SEND_ATTEMPTS || wait > MAX_RETRY_AFTER_S) throw err;
            await new Promise((r) => setTimeout(r, wait * 1000));
          }
        }
      },
      probe: async (p) => probe(p.timeoutMs),
      update: async (p) => {
        await bot.handleUpdate(p.update as Parameters<typeof bot.handleUpdate>[0]);
        return { ok: true };
      },
    },
    events: { noop: () => undefined },
  },
  {
    onStop: async () => {
      stopping = true;
      // Abort the long poll; the loop confirms the offset of what was handled, then returns.
      pollAbort?.abort();
      await polling?.catch(() => undefined);
      // grammY's keep-alive sockets would hold the thread open; the link closes right after
      // this returns, so end the thread shortly if nothing else does.
      setTimeout(() => process.exit(0), 50).unref();
    },
  },
);

const log = (level: ChannelLogLevel, msg: string, fields: Record<string, unknown> = {}): void =>
  endpoint.link.emit({ type: "log", level, msg, fields: { account: data.accountId, ...fields } });

async function probe(timeoutMs: number): Promise<ChannelProbe> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`getMe timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const me = await Promise.race([bot.api.getMe(), timeout]);
    return { ok: true, bot: { id: me.id, username: me.username }, elapsedMs: Date.now() - started };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Hands one update to main; resolves once main made it durable (or dropped it). */
async function handOver(update: { message?: unknown }): Promise<void> {
  if (!update.message) return;
  const msg = normalizeTelegramMessage(update.message as TgMessage, bot.botInfo);
  if (msg) await endpoint.link.request("inbound", msg);
}

/**
 * Long polling. A batch's updates go to main concurrently (their queue appends share one
 * group commit, in arrival order); the offset that confirms the batch is sent only after all
 * of them were answered, in the next getUpdates. At stop: abort the poll, confirm, return.
 */
function pollLoop(): Promise<void> {
  polling = (async () => {
    let first = true;
    while (!stopping) {
      pollAbort = new AbortController();
      let updates: { update_id: number; message?: unknown }[];
      try {
        const params = { offset, timeout: data.pollTimeoutSec ?? 30, ...(first ? { allowed_updates: ["message" as const] } : {}) };
        updates = await bot.api.getUpdates(params, pollAbort.signal as never);
        first = false;
      } catch (err) {
        if (stopping) break;
        if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 409)) throw err;
        const waitS = err instanceof GrammyError && err.error_code === 429 ? Math.min(err.parameters.retry_after ?? 3, MAX_RETRY_AFTER_S) : 3;
        log("warn", "getUpdates failed; retrying", { err: err instanceof Error ? err.message : String(err), waitS });
        endpoint.link.emit({ type: "state", state: { lastError: err instanceof Error ? err.message : String(err) } });
        await new Promise((r) => setTimeout(r, waitS * 1000));
        continue;
      }
      await Promise.all(updates.map((u) => handOver(u)));
      const last = updates[updates.length - 1];
      if (last) offset = last.update_id + 1;
    }
    // Confirm what was handled (no long poll: timeout 0).
    if (offset > 0) await bot.api.getUpdates({ offset, limit: 1, timeout: 0 }).catch(() => undefined);
  })();
  return polling;
}

bot.on("message", async (ctx) => {
  const msg = normalizeTelegramMessage(ctx.message as TgMessage, bot.botInfo);
  if (!msg) return;
  // Webhook mode: awaited, so the HTTP answer (Telegram's ack) follows persistence in main.
  await endpoint.link.request("inbound", msg);
});
// A middleware failure (main could not persist) must not be acknowledged: crash instead.
bot.catch((err) => die(err.error));

// getMe: who we are (username for mention gating) and whether the token works.
await bot.init();
endpoint.link.emit({ type: "state", state: { bot: { id: bot.botInfo.id, username: bot.botInfo.username }, mode: data.mode } });

if (data.mode === "webhook") {
  await bot.api.setWebhook(data.webhookUrl ?? "", data.webhookSecret ? { secret_token: data.webhookSecret } : {});
  endpoint.link.emit({ type: "state", state: { connected: true, lastError: null } });
  log("info", "telegram webhook set");
} else if (!stopping) {
  await bot.api.deleteWebhook();
  endpoint.link.emit({ type: "state", state: { connected: true, lastError: null } });
  log("info", "telegram polling started", { username: bot.botInfo.username });
  await pollLoop();
  if (!stopping) die(new Error("polling ended unexpectedly"));
}
