/**
 * Main-side handle of one WhatsApp account: its worker thread under a WorkerSupervisor
 * (restart with backoff on the reference's WhatsApp schedule, restart-loop breaker),
 * exposing `send / status / loginStart / loginWait / logout` and inbound/state/QR
 * callbacks. The channels module adopts it per configured account; nothing here imports
 * Baileys (that happens inside the worker only).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { WorkerSupervisor } from "../../workers/worker-supervisor.js";
import type { SupervisorLogger, WorkerState, WorkerSupervisorOptions } from "../../workers/supervisor-types.js";
import type { RestartPolicyOptions } from "../../workers/restart-policy.js";
import type {
  WhatsAppInbound,
  WhatsAppLinkProtocol,
  WhatsAppLoginStartParams,
  WhatsAppLoginStartResult,
  WhatsAppLoginWaitResult,
  WhatsAppLogLevel,
  WhatsAppLogoutResult,
  WhatsAppSendParams,
  WhatsAppSendResult,
  WhatsAppState,
  WhatsAppWorkerData,
} from "../../../workers/channels/whatsapp/whatsapp-link-protocol.js";

export const DEFAULT_WHATSAPP_ACCOUNT = "default";
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Throws on an account id that could escape the credentials dir. */
export function assertAccountId(accountId: string): void {
  if (!ACCOUNT_ID.test(accountId)) throw new RangeError(`invalid WhatsApp account id: ${JSON.stringify(accountId.slice(0, 80))}`);
}

/** `<stateDir>/credentials/whatsapp/<accountId>/` (reference layout). */
export function whatsappAuthDir(stateDir: string, accountId: string = DEFAULT_WHATSAPP_ACCOUNT): string {
  assertAccountId(accountId);
  return join(stateDir, "credentials", "whatsapp", accountId);
}

/** Logger with levels (pino-compatible). */
export interface WhatsAppLogger extends SupervisorLogger {
  debug(obj: object, msg: string): void;
}

/** Options of a WhatsAppAccount. */
export interface WhatsAppAccountOptions {
  /** Account id. Default `default`. */
  accountId?: string;
  /** Auth dir. Required: see `whatsappAuthDir()` (or `channels.whatsapp.accounts.<id>.authDir`). */
  authDir: string;
  /** Worker settings (reconnect policy, idle watchdog, chunk limit, login TTL, autoConnect, test factory). Defaults: see WhatsAppWorkerData. */
  worker?: Omit<WhatsAppWorkerData, "accountId" | "authDir">;
  /** Worker restart backoff/breaker. Default: 2 s ×1.8 up to 30 s; breaker after 5 restarts in 60 s. */
  restart?: RestartPolicyOptions;
  /** Supervisor tuning (heartbeat, start timeout, request timeout). Defaults: see WorkerSupervisorOptions. */
  supervisor?: Pick<WorkerSupervisorOptions<WhatsAppLinkProtocol>, "heartbeatIntervalMs" | "heartbeatTimeoutMs" | "startTimeoutMs" | "requestTimeoutMs" | "nice">;
  /** Logger; worker log lines are forwarded to it with `{channel, accountId}`. Default: silent. */
  logger?: WhatsAppLogger;
}

/** Account snapshot: the worker's last report plus the supervisor's view. */
export interface WhatsAppAccountSnapshot extends WhatsAppState {
  worker: WorkerState;
}

const silent: WhatsAppLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Worker entries live next to their source: `.ts` under tsx, `.js` once compiled. */
function workerEntry(): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`../../../workers/channels/whatsapp/whatsapp-worker${ext}`, import.meta.url);
}

type Listener<T> = (v: T) => void | Promise<void>;

export class WhatsAppAccount {
  readonly accountId: string;
  readonly authDir: string;
  /** The account worker's supervisor (state, restarts; the channels module's link reads it). */
  readonly supervisor: WorkerSupervisor<WhatsAppLinkProtocol>;
  private readonly log: WhatsAppLogger;
  private last: WhatsAppState;
  private readonly inbound = new Set<Listener<WhatsAppInbound>>();
  private readonly states = new Set<Listener<WhatsAppAccountSnapshot>>();
  private readonly qrs = new Set<Listener<{ qr: string; dataUrl: string }>>();

  constructor(opts: WhatsAppAccountOptions) {
    this.accountId = opts.accountId ?? DEFAULT_WHATSAPP_ACCOUNT;
    assertAccountId(this.accountId);
    this.authDir = opts.authDir;
    this.log = opts.logger ?? silent;
    this.last = {
      accountId: this.accountId,
      linked: false,
      running: false,
      connected: false,
      reconnectAttempts: 0,
      nextReconnectAt: null,
      lastConnectedAt: null,
      lastDisconnect: null,
      lastMessageAt: null,
      lastEventAt: null,
      lastError: null,
      stopped: false,
      self: null,
    };
    const data: WhatsAppWorkerData = { ...opts.worker, accountId: this.accountId, authDir: this.authDir };
    const fields = { channel: "whatsapp", accountId: this.accountId };
    this.supervisor = new WorkerSupervisor<WhatsAppLinkProtocol>({
      name: `whatsapp:${this.accountId}`,
      entry: workerEntry(),
      workerData: data,
      restart: { initialDelayMs: 2000, factor: 1.8, maxDelayMs: 30_000, ...opts.restart },
      ...opts.supervisor,
      logger: this.log,
      handlers: {
        requests: {},
        events: {
          inbound: ({ type: _t, ...m }) => this.fire(this.inbound, m, "inbound listener"),
          state: ({ type: _t, ...s }) => {
            this.last = s;
            this.fire(this.states, this.snapshot(), "state listener");
          },
          qr: (e) => this.fire(this.qrs, { qr: e.qr, dataUrl: e.dataUrl }, "qr listener"),
          log: (e) => this.logLine(e.level, e.msg, { ...e.fields, ...fields }),
        },
      },
    });
    // A dead worker holds no socket: report that at once rather than its last "connected".
    this.supervisor.onStateChange((w) => {
      if (w.state !== "running") this.last = { ...this.last, running: false, connected: false, lastError: w.lastError ?? this.last.lastError };
      this.fire(this.states, this.snapshot(), "state listener");
    });
  }

  private logLine(level: WhatsAppLogLevel, msg: string, fields: Record<string, unknown>): void {
    this.log[level](fields, msg);
  }

  private fire<T>(set: Set<Listener<T>>, value: T, what: string): void {
    for (const l of [...set]) {
      try {
        const r = l(value);
        if (r instanceof Promise) r.catch((err: unknown) => this.log.error({ err: String(err), accountId: this.accountId }, `whatsapp: ${what} failed`));
      } catch (err) {
        this.log.error({ err: String(err), accountId: this.accountId }, `whatsapp: ${what} threw`);
      }
    }
  }

  /** Starts the worker; resolves once it is running (it connects by itself when linked). */
  start(): Promise<void> {
    return this.supervisor.start();
  }

  /** Stops the worker (closes the socket; creds stay). */
  stop(timeoutMs = 5000): Promise<void> {
    return this.supervisor.stop(timeoutMs);
  }

  /** Sends text (chunked at 4000) over the live socket. Errors: NOT_LINKED (no socket), UNAVAILABLE (worker restarting). */
  send(p: WhatsAppSendParams): Promise<WhatsAppSendResult> {
    return this.supervisor.request("send", p);
  }

  /** Fresh state from the worker (falls back to the last known one while it is down). */
  async status(): Promise<WhatsAppAccountSnapshot> {
    if (this.supervisor.getState().state === "running") {
      try {
        this.last = await this.supervisor.request("status", {}, { timeoutMs: 5000 });
      } catch {
        // keep the last report
      }
    }
    return this.snapshot();
  }

  /** Last known state, synchronously (health sections). */
  snapshot(): WhatsAppAccountSnapshot {
    return { ...this.last, worker: this.supervisor.getState() };
  }

  /** `web.login.start`. */
  loginStart(p: WhatsAppLoginStartParams = {}): Promise<WhatsAppLoginStartResult> {
    const wait = Math.max(p.timeoutMs ?? 30_000, 5000);
    return this.supervisor.request("loginStart", p, { timeoutMs: wait + 10_000 });
  }

  /** `web.login.wait`. */
  loginWait(p: { timeoutMs?: number } = {}): Promise<WhatsAppLoginWaitResult> {
    const wait = Math.max(p.timeoutMs ?? 120_000, 1000);
    return this.supervisor.request("loginWait", p, { timeoutMs: wait + 10_000 });
  }

  /** `channels.logout`: logs out through the worker, or deletes the auth dir directly when no worker runs. */
  async logout(): Promise<WhatsAppLogoutResult> {
    if (this.supervisor.getState().state === "running") return this.supervisor.request("logout", {}, { timeoutMs: 15_000 });
    const cleared = await rm(this.authDir, { recursive: true }).then(
      () => true,
      () => false,
    );
    this.last = { ...this.last, linked: false, self: null };
    return { cleared, loggedOut: false };
  }

  /** Inbound text messages; returns the unsubscribe function. */
  onInbound(listener: Listener<WhatsAppInbound>): () => void {
    this.inbound.add(listener);
    return () => this.inbound.delete(listener);
  }

  /** State changes (worker reports and supervisor transitions). */
  onState(listener: Listener<WhatsAppAccountSnapshot>): () => void {
    this.states.add(listener);
    return () => this.states.delete(listener);
  }

  /** Every QR the login socket shows (they rotate about every 20 s). */
  onQr(listener: Listener<{ qr: string; dataUrl: string }>): () => void {
    this.qrs.add(listener);
    return () => this.qrs.delete(listener);
  }

  /** Kills the worker as if it had crashed (operators' kick, tests). */
  kill(reason: string): void {
    this.supervisor.terminate(reason);
  }
}
