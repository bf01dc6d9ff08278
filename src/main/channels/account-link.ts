/**
 * The worker side of one channel account as the account runner drives it. Each channel
 * adapts its supervised worker to this shape, so the runner's durability path (access
 * control, inbound queue, handler, outbox) is one code for every channel:
 *
 *   Telegram: the grammY link worker speaks `ChannelLinkProtocol` directly (below).
 *   WhatsApp: the Baileys worker behind `WhatsAppAccount` (whatsapp/whatsapp-link.ts).
 */
import type { Logger } from "pino";
import type { ChannelInbound, ChannelLinkProtocol, ChannelSendParams, ChannelSendResult, ChannelWorkerState } from "../../workers/channels/channel-link-protocol.js";
import type {
  WhatsAppLoginStartParams,
  WhatsAppLoginStartResult,
  WhatsAppLoginWaitResult,
  WhatsAppLogoutResult,
} from "../../workers/channels/whatsapp/whatsapp-link-protocol.js";
import type { RestartPolicyOptions } from "../workers/restart-policy.js";
import type { WorkerState } from "../workers/supervisor-types.js";
import { WorkerSupervisor } from "../workers/worker-supervisor.js";

/**
 * Linux nice value of every channel worker thread (set before its entry loads). On a small
 * host a channel worker that burns CPU — a reconnect storm, a runaway loop in an SDK,
 * loading Baileys after a restart — competes with the control plane's thread for the same
 * cores; threads keep its crashes away from the main thread, only priority keeps its CPU use
 * away too. Under CFS a nice-10 thread gets ~10 % of a core contended with one nice-0 thread
 * and all of an idle one, and a waking nice-0 thread preempts it at once: at nice 5 a worker
 * spinning in a loop moved the control plane's health p99 2.7× on 2 cores, at 10–15 under 2×.
 * Not lower still: a worker loading Baileys on a host saturated by other processes starts
 * slowly at these weights (tens of seconds at load 10+).
 */
export const CHANNEL_WORKER_NICE = 10;

/** A supervised account worker. */
export interface AccountLink {
  start(): Promise<void>;
  /** Resolves after the worker thread exited. */
  stop(timeoutMs: number): Promise<void>;
  getState(): WorkerState;
  /** Resolves when a worker runs (rejects once stopped). */
  whenRunning(): Promise<void>;
  onStateChange(listener: (st: WorkerState) => void): () => void;
  /** Kills the worker as if it had crashed (the supervisor restarts it). */
  terminate(reason: string): void;
  /** Sends one chunk. */
  send(p: ChannelSendParams): Promise<ChannelSendResult>;
  /** Checks the credentials against the platform (`channels.status {probe:true}`). Absent: no probe. */
  probe?(timeoutMs: number): Promise<unknown>;
  /** Webhook mode: one authenticated update from the gateway's HTTP route. */
  update?(update: unknown): Promise<unknown>;
  /** QR login (`web.login.start` / `web.login.wait`). Absent: the channel has none. */
  login?: {
    start(p: WhatsAppLoginStartParams): Promise<WhatsAppLoginStartResult>;
    wait(p: { timeoutMs?: number }): Promise<WhatsAppLoginWaitResult>;
  };
  /** Logs the account out on the platform and deletes its credentials (WhatsApp). */
  logout?(): Promise<WhatsAppLogoutResult>;
}

/** What a link reports to its runner. */
export interface AccountLinkHooks {
  /** Persists (or drops) one inbound message; resolves once it is durable. */
  inbound(m: ChannelInbound): Promise<{ accepted: boolean }>;
  state(s: ChannelWorkerState): void;
}

/** How the runner's link is made (per channel). */
export type CreateAccountLink = (hooks: AccountLinkHooks, log: Logger) => AccountLink;

/** Options of a link to a worker that speaks `ChannelLinkProtocol` (Telegram). */
export interface ProtocolLinkOptions {
  name: string;
  entry: URL;
  workerData: unknown;
  restart: RestartPolicyOptions;
  /** Default: the supervisor's (10 000 ms). */
  heartbeatTimeoutMs?: number;
}

/** A link to a worker that speaks `ChannelLinkProtocol`. */
export function protocolLink(o: ProtocolLinkOptions): CreateAccountLink {
  return (hooks, log) => {
    const sup = new WorkerSupervisor<ChannelLinkProtocol>({
      name: o.name,
      entry: o.entry,
      workerData: o.workerData,
      restart: o.restart,
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      nice: CHANNEL_WORKER_NICE,
      logger: log,
      handlers: {
        requests: { inbound: (m) => hooks.inbound(m) },
        events: { state: (e) => hooks.state(e.state), log: (e) => log[e.level](e.fields, e.msg) },
      },
    });
    return {
      start: () => sup.start(),
      stop: (ms) => sup.stop(ms),
      getState: () => sup.getState(),
      whenRunning: () => sup.whenRunning(),
      onStateChange: (l) => sup.onStateChange(l),
      terminate: (reason) => sup.terminate(reason),
      send: (p) => sup.request("send", p),
      probe: (timeoutMs) => sup.request("probe", { timeoutMs }, { timeoutMs: timeoutMs + 500 }),
      update: (update) => sup.request("update", { update }),
    };
  };
}
