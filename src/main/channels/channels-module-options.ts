/** Name and options of the channels module (their own file: the loader names them without importing the module). */
import type { RestartPolicyOptions } from "../workers/restart-policy.js";
import type { AccountWorkerSettings } from "./channel-accounts.js";
import type { InboundHandler, SendMirror } from "./channel-types.js";

export interface ChannelsModuleOptions {
  /** Answers accepted inbound messages (the agent; see channel-types.ts). */
  handler: InboundHandler;
  /** Mirrors delivered `send`s into session transcripts (§3.4). Default: none (the loader gives the agents runtime's). */
  mirror?: SendMirror;
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
  /** WhatsApp worker overrides (tests substitute the socket factory here). Default none. */
  whatsappWorker?: AccountWorkerSettings["whatsappWorker"];
}

/** Name of the channels module (its `api` is `ChannelsApi`). */
export const CHANNELS_MODULE = "channels";
