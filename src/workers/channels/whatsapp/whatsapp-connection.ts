/**
 * The account's one Baileys socket and what keeps it alive.
 *
 *   connect() ──QR──> (login: user scans) ──515──> one immediate restart ──open──> connected
 *       ^                                                                            |
 *       |  backoff 2 s ×1.8 ±25 %, max 30 s, 12 attempts     close (other status) / idle watchdog
 *       +--------------------------------------------------------------------------+
 *   close 440 (another client took over) → stop, "conflict, relink"
 *   close 401 (logged out on the phone)  → delete creds, stop
 *
 * Invariant: at most one live socket. A socket is "retired" (listeners removed) before
 * it is ended or replaced, so a late `close` of an old socket can never trigger a second
 * reconnect or tear down its successor.
 */
import { GatewayError } from "../../../shared/errors.js";
import { loadOutboundMedia } from "../outbound-media.js";
import { notLinkedMessage } from "./not-linked-message.js";
import { authExists, clearAuth, loadAuthState, readSelfJid } from "./auth-store.js";
import { reconnectDelay } from "./backoff.js";
import type { ResolvedReconnectPolicy } from "./backoff.js";
import { chunkText } from "./chunk-text.js";
import { disconnectStatus, disconnectText, STATUS_CONFLICT, STATUS_LOGGED_OUT, STATUS_RESTART_REQUIRED } from "./disconnect-status.js";
import { jidToE164, normalizeJid, parseInbound, toJid } from "./inbound-message.js";
import { whatsappMediaContent } from "./media-content.js";
import type { CreateSocket, WaMessageContent, WaSocketEvents, WaSocketLike } from "./socket-types.js";
import type { WhatsAppInbound, WhatsAppLogLevel, WhatsAppSendParams, WhatsAppSendResult, WhatsAppState } from "./whatsapp-link-protocol.js";

/** Hooks the worker entry connects to the link. */
export interface ConnectionHooks {
  onState(state: WhatsAppState): void;
  onQr(qr: string): void;
  onOpen(): void;
  /** A close that ends the attempt to connect (no reconnect follows), with a user-facing reason. */
  onGiveUp(reason: string, loggedOut: boolean): void;
  onInbound(msg: WhatsAppInbound): void;
  log(level: WhatsAppLogLevel, msg: string, fields: Record<string, unknown>): void;
}

/** Options of a WhatsAppConnection. */
export interface ConnectionOptions {
  accountId: string;
  authDir: string;
  createSocket: CreateSocket;
  factoryArg?: string;
  reconnect: ResolvedReconnectPolicy;
  /** See WhatsAppWorkerData.idleTimeoutMs. */
  idleTimeoutMs: number;
  textChunkLimit: number;
  /** See WhatsAppWorkerData.mediaMaxBytes. */
  mediaMaxBytes: number;
  /** See WhatsAppWorkerData.mediaAllowPrivateNetwork. */
  mediaAllowPrivateNetwork?: boolean;
}

export { notLinkedMessage };

type Listeners = { [K in keyof WaSocketEvents]: (arg: WaSocketEvents[K]) => void };

/** Recent idempotency keys remembered per worker lifetime (the durable outbox covers restarts). */
const IDEMPOTENCY_MEMORY = 1000;

export class WhatsAppConnection {
  readonly state: WhatsAppState;
  private sock: WaSocketLike | null = null;
  private listeners: Listeners | null = null;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private restartedFor515 = false;
  private closed = false;
  /** The last creds save; a new socket reads creds only after it settled (pairing's creds.update races the 515 restart). */
  private savingCreds: Promise<void> = Promise.resolve();
  private readonly sends = new Map<string, Promise<WhatsAppSendResult>>();

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.state = {
      accountId: opts.accountId,
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
  }

  /** Reads the linked state; connects when linked and `autoConnect`. */
  async start(autoConnect: boolean): Promise<void> {
    this.state.linked = await authExists(this.opts.authDir);
    const selfJid = this.state.linked ? await readSelfJid(this.opts.authDir) : null;
    if (selfJid) this.state.self = { jid: normalizeJid(selfJid), e164: jidToE164(selfJid) };
    if (!this.state.linked) this.state.lastError = "not linked";
    this.emitState();
    if (this.state.linked && autoConnect) await this.connect().catch((err: unknown) => this.connectFailed(err));
  }

  /** True while a socket is open. */
  get isOpen(): boolean {
    return this.sock !== null && this.state.connected;
  }

  /** Opens a fresh socket (replacing any). Resets the "stopped" verdict. */
  connect(): Promise<void> {
    this.clearReconnect();
    this.state.stopped = false;
    // Coalesce: a reconnect timer and a login asking at once get the same socket.
    this.connecting ??= this.openSocket().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openSocket(): Promise<void> {
    this.retire(true);
    await this.savingCreds;
    const auth = await loadAuthState(this.opts.authDir);
    if (auth.restored) this.hooks.log("warn", "whatsapp: creds.json was corrupt; restored from creds.json.bak", { accountId: this.opts.accountId });
    if (this.closed) return;
    const sock = await this.opts.createSocket({
      auth: auth.state,
      factoryArg: this.opts.factoryArg,
      log: (level, msg, fields) => this.hooks.log(level, msg, { accountId: this.opts.accountId, ...fields }),
    });
    if (this.closed) {
      sock.end(undefined);
      return;
    }
    const listeners: Listeners = {
      "connection.update": (u) => this.onUpdate(sock, u),
      "creds.update": () => {
        this.touch(sock);
        this.savingCreds = auth.saveCreds().catch((err: unknown) => this.hooks.log("error", "whatsapp: saving creds failed", { err: String(err) }));
      },
      "messages.upsert": (u) => this.onUpsert(sock, u),
    };
    sock.ev.on("connection.update", listeners["connection.update"]);
    sock.ev.on("creds.update", listeners["creds.update"]);
    sock.ev.on("messages.upsert", listeners["messages.upsert"]);
    this.sock = sock;
    this.listeners = listeners;
    this.state.running = true;
    this.state.connected = false;
    this.emitState();
  }

  /** Detaches the current socket (and ends it when `end`); its later events are ignored. */
  private retire(end: boolean): WaSocketLike | null {
    const sock = this.sock;
    const l = this.listeners;
    this.sock = null;
    this.listeners = null;
    this.clearIdle();
    if (!sock) return null;
    if (l) {
      sock.ev.off("connection.update", l["connection.update"]);
      sock.ev.off("creds.update", l["creds.update"]);
      sock.ev.off("messages.upsert", l["messages.upsert"]);
    }
    if (end) {
      try {
        sock.end(undefined);
      } catch (err) {
        this.hooks.log("warn", "whatsapp: ending socket threw", { err: String(err) });
      }
    }
    this.state.running = false;
    this.state.connected = false;
    return sock;
  }

  private touch(sock: WaSocketLike): boolean {
    if (sock !== this.sock) return false;
    this.state.lastEventAt = Date.now();
    return true;
  }

  private onUpdate(sock: WaSocketLike, u: WaSocketEvents["connection.update"]): void {
    if (!this.touch(sock)) return;
    if (typeof u.qr === "string" && u.qr.length > 0) this.hooks.onQr(u.qr);
    if (u.connection === "open") {
      this.state.connected = true;
      this.state.linked = true;
      this.state.lastConnectedAt = Date.now();
      this.state.reconnectAttempts = 0;
      this.state.nextReconnectAt = null;
      this.state.lastError = null;
      this.restartedFor515 = false;
      const id = sock.user?.id;
      if (id) this.state.self = { jid: normalizeJid(id), e164: jidToE164(id) };
      this.armIdle();
      this.hooks.log("info", "whatsapp: connected", { accountId: this.opts.accountId });
      this.emitState();
      this.hooks.onOpen();
    } else if (u.connection === "close") {
      const err = u.lastDisconnect?.error;
      this.onClose(disconnectStatus(err), disconnectText(err));
    }
  }

  private onClose(status: number | null, error: string): void {
    this.retire(false);
    const loggedOut = status === STATUS_LOGGED_OUT;
    this.state.lastDisconnect = { at: Date.now(), status, error, loggedOut };
    this.hooks.log(status === STATUS_RESTART_REQUIRED ? "info" : "warn", "whatsapp: connection closed", { accountId: this.opts.accountId, status, error });
    if (status === STATUS_RESTART_REQUIRED && !this.restartedFor515) {
      // After pairing the server asks for exactly one restart; the new socket logs in with the fresh creds.
      this.restartedFor515 = true;
      this.emitState();
      void this.connect().catch((err: unknown) => this.connectFailed(err));
      return;
    }
    if (status === STATUS_CONFLICT) {
      this.giveUp("conflict: this WhatsApp session was replaced by another client; relink with clawdbot channels login --channel whatsapp", false);
      return;
    }
    if (loggedOut) {
      void clearAuth(this.opts.authDir).then(
        () => this.hooks.log("warn", "whatsapp: logged out; cleared cached web session", { accountId: this.opts.accountId }),
        (err: unknown) => this.hooks.log("error", "whatsapp: clearing creds failed", { err: String(err) }),
      );
      this.state.linked = false;
      this.state.self = null;
      this.giveUp("WhatsApp reported the session is logged out. Cleared cached web session; please scan a new QR.", true);
      return;
    }
    if (!this.state.linked && this.state.lastConnectedAt === null) {
      // Never paired (QR not scanned in time, pairing refused): reconnecting would only mint new QRs.
      this.giveUp(`WhatsApp login failed: ${error}`, false);
      return;
    }
    this.scheduleReconnect(error);
  }

  private giveUp(reason: string, loggedOut: boolean): void {
    this.clearReconnect();
    this.state.stopped = true;
    this.state.lastError = reason;
    this.emitState();
    this.hooks.onGiveUp(reason, loggedOut);
  }

  private connectFailed(err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    this.hooks.log("error", "whatsapp: opening the socket failed", { accountId: this.opts.accountId, err: text });
    this.scheduleReconnect(`socket failed to open: ${text}`);
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed) return;
    const policy = this.opts.reconnect;
    const attempt = this.state.reconnectAttempts + 1;
    if (policy.maxAttempts > 0 && attempt > policy.maxAttempts) {
      this.giveUp(`gave up reconnecting after ${policy.maxAttempts} attempts: ${reason}`, false);
      return;
    }
    const delay = reconnectDelay(policy, attempt);
    this.state.reconnectAttempts = attempt;
    this.state.nextReconnectAt = Date.now() + delay;
    this.state.lastError = reason;
    this.hooks.log("info", "whatsapp: reconnecting after backoff", { accountId: this.opts.accountId, attempt, delayMs: delay });
    this.emitState();
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.state.nextReconnectAt = null;
      void this.connect().catch((err: unknown) => this.connectFailed(err));
    }, delay);
  }

  /** Idle watchdog: a "connected" socket with no event for idleTimeoutMs is presumed dead. */
  private armIdle(): void {
    this.clearIdle();
    const sock = this.sock;
    if (!sock || this.opts.idleTimeoutMs <= 0) return;
    const check = (): void => {
      this.idleTimer = null;
      if (sock !== this.sock || !this.state.connected) return;
      const idleFor = Date.now() - (this.state.lastEventAt ?? 0);
      if (idleFor < this.opts.idleTimeoutMs) {
        this.idleTimer = setTimeout(check, this.opts.idleTimeoutMs - idleFor);
        return;
      }
      this.hooks.log("warn", "whatsapp: no events while connected; reconnecting", { accountId: this.opts.accountId, idleMs: idleFor });
      this.retire(true);
      this.state.lastDisconnect = { at: Date.now(), status: null, error: `idle watchdog: no events for ${idleFor} ms`, loggedOut: false };
      this.scheduleReconnect(`idle watchdog: no events for ${idleFor} ms`);
    };
    this.idleTimer = setTimeout(check, this.opts.idleTimeoutMs);
  }

  private onUpsert(sock: WaSocketLike, u: WaSocketEvents["messages.upsert"]): void {
    if (!this.touch(sock)) return;
    // "append" is history sync / own-device echoes; only "notify" is new traffic for the agent.
    if (u.type !== "notify" || !Array.isArray(u.messages)) return;
    const self = { jids: [sock.user?.id, sock.user?.lid, this.state.self?.jid].filter((j): j is string => typeof j === "string") };
    for (const m of u.messages) {
      const inbound = parseInbound(m, self);
      if (!inbound) continue;
      this.state.lastMessageAt = Date.now();
      this.hooks.onInbound(inbound);
    }
  }

  /** Sends text over the live socket, chunked, or one media message captioned with the text. NOT_LINKED without one. */
  send(p: WhatsAppSendParams): Promise<WhatsAppSendResult> {
    const key = p.idempotencyKey;
    if (key !== undefined) {
      const prior = this.sends.get(key);
      if (prior) return prior;
    }
    const run = this.sendNow(p);
    if (key !== undefined) {
      this.sends.set(key, run);
      // A failed send may be retried with the same key.
      run.catch(() => this.sends.delete(key));
      if (this.sends.size > IDEMPOTENCY_MEMORY) this.sends.delete(this.sends.keys().next().value as string);
    }
    return run;
  }

  private async sendNow(p: WhatsAppSendParams): Promise<WhatsAppSendResult> {
    let toJidValue: string;
    try {
      toJidValue = toJid(p.to);
    } catch (err) {
      throw new GatewayError("GW_ERR_WHATSAPP_INVALID_TARGET", (err as Error).message);
    }
    const sock = this.sock;
    if (!sock || !this.state.connected) {
      throw new GatewayError("GW_ERR_WHATSAPP_NOT_LINKED", notLinkedMessage(this.opts.accountId), { accountId: this.opts.accountId, channel: "whatsapp" });
    }
    if (p.media !== undefined) {
      const media = await loadOutboundMedia(p.media, this.opts.mediaMaxBytes, { untrusted: p.mediaUntrusted === true, allowPrivateNetwork: this.opts.mediaAllowPrivateNetwork === true }).catch((err: unknown) => {
        throw new GatewayError("GW_ERR_WHATSAPP_SEND_FAILED", err instanceof Error ? err.message : String(err));
      });
      const caption = p.text.trim();
      const content = whatsappMediaContent(media, caption, p.gifPlayback === true);
      // Audio carries no caption on WhatsApp: the text follows as its own message.
      const messages: WaMessageContent[] = "audio" in content && caption !== "" ? [content, { text: caption }] : [content];
      const ids: string[] = [];
      for (const m of messages) {
        try {
          ids.push((await sock.sendMessage(toJidValue, m))?.key?.id ?? "unknown");
        } catch (err) {
          throw new GatewayError("GW_ERR_WHATSAPP_SEND_FAILED", `WhatsApp send failed: ${err instanceof Error ? err.message : String(err)}`, { media: true, sent: ids.length }, { cause: err });
        }
      }
      return { messageId: ids[ids.length - 1]!, messageIds: ids, toJid: toJidValue, chunks: ids.length };
    }
    const chunks = chunkText(p.text, this.opts.textChunkLimit);
    const ids: string[] = [];
    for (const text of chunks) {
      let res;
      try {
        res = await sock.sendMessage(toJidValue, { text });
      } catch (err) {
        throw new GatewayError("GW_ERR_WHATSAPP_SEND_FAILED", `WhatsApp send failed: ${err instanceof Error ? err.message : String(err)}`, { sentChunks: ids.length, chunks: chunks.length }, { cause: err });
      }
      ids.push(res?.key?.id ?? "unknown");
    }
    return { messageId: ids[ids.length - 1] ?? "unknown", messageIds: ids, toJid: toJidValue, chunks: chunks.length };
  }

  /** Logs out (best effort, bounded), closes the socket and deletes the auth dir. */
  async logout(): Promise<{ cleared: boolean; loggedOut: boolean }> {
    this.clearReconnect();
    await this.connecting?.catch(() => undefined);
    const wasOpen = this.state.connected;
    const sock = this.retire(false);
    let loggedOut = false;
    if (sock && wasOpen) {
      loggedOut = await Promise.race([
        sock.logout().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref()),
      ]);
    }
    try {
      sock?.end(undefined);
    } catch {
      // already closed
    }
    const cleared = await clearAuth(this.opts.authDir);
    this.state.linked = false;
    this.state.self = null;
    this.state.stopped = true;
    this.state.reconnectAttempts = 0;
    this.state.lastError = "not linked";
    this.emitState();
    return { cleared, loggedOut };
  }

  /** Closes for good (worker stop). */
  async close(): Promise<void> {
    this.closed = true;
    this.clearReconnect();
    await this.connecting?.catch(() => undefined);
    this.retire(true);
  }

  /** Snapshot copy. */
  snapshot(): WhatsAppState {
    return structuredClone(this.state);
  }

  private emitState(): void {
    this.hooks.onState(this.snapshot());
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.state.nextReconnectAt = null;
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
