/** `workerData.user` of a Telegram account worker (resolved by the channels module). */
export interface TelegramWorkerData {
  accountId: string;
  /** Bot token (never logged). */
  token: string;
  /** Bot API root. Default `https://api.telegram.org`. */
  apiRoot?: string;
  /** `webhook` when `webhookUrl` is set; updates then arrive through main (`update` requests). */
  mode: "polling" | "webhook";
  webhookUrl?: string;
  webhookSecret?: string;
  /** getUpdates long-poll timeout in seconds. Default 30. */
  pollTimeoutSec?: number;
  /** Largest outbound media (`channels.telegram.mediaMaxMb`). Default TELEGRAM_MEDIA_MAX_BYTES. */
  mediaMaxBytes?: number;
  /** `mediaAllowPrivateNetwork`: a reply's `MEDIA:` URL may be on a private address. Default false. */
  mediaAllowPrivateNetwork?: boolean;
}

/** Default cap on outbound media, 5 MB (`mediaMaxMb` 5, the reference's Telegram default). */
export const TELEGRAM_MEDIA_MAX_BYTES = 5 * 1024 * 1024;
