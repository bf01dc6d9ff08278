/**
 * QR login on top of the account's connection (`web.login.start` / `web.login.wait`).
 *
 * A login session lives 3 minutes: within that window `start` hands back the same QR
 * (Baileys rotates it; the newest is kept) instead of opening yet another socket. The
 * socket opened for pairing is the account's socket: once linked (after the one 515
 * restart) it simply stays up as the running channel. Messages are the reference's.
 */
import { authExists } from "./auth-store.js";
import type { WhatsAppConnection } from "./whatsapp-connection.js";
import type { WhatsAppLoginStartParams, WhatsAppLoginStartResult, WhatsAppLoginWaitResult } from "./whatsapp-link-protocol.js";

export const LINKED_MESSAGE = "✅ Linked! WhatsApp is ready.";
export const SCAN_MESSAGE = "Scan this QR in WhatsApp → Linked Devices.";

interface Session {
  startedAt: number;
  qr: string | null;
  qrDataUrl: string | null;
  outcome: WhatsAppLoginWaitResult | null;
}

/** Renders a QR payload as a PNG data URL (qrcode is pure JS; loaded on first use). */
export async function qrToDataUrl(qr: string): Promise<string> {
  const QRCode = await import("qrcode");
  return QRCode.toDataURL(qr, { type: "image/png", margin: 1, scale: 6 });
}

export class LoginSessions {
  private session: Session | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly conn: WhatsAppConnection,
    private readonly authDir: string,
    private readonly ttlMs: number,
  ) {}

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (pred()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  private live(): Session | null {
    const s = this.session;
    return s && Date.now() - s.startedAt < this.ttlMs ? s : null;
  }

  /** A QR arrived on the connection. */
  async onQr(qr: string): Promise<string> {
    const dataUrl = await qrToDataUrl(qr);
    const s = this.session;
    if (s && s.outcome === null) {
      s.qr = qr;
      s.qrDataUrl = dataUrl;
    }
    this.wake();
    return dataUrl;
  }

  /** The connection opened. */
  onOpen(): void {
    const s = this.session;
    if (s && s.outcome === null) s.outcome = { connected: true, message: LINKED_MESSAGE };
    this.wake();
  }

  /** The connection gave up (440, 401, pairing failed). */
  onGiveUp(reason: string, loggedOut: boolean): void {
    const s = this.session;
    if (s && s.outcome === null) s.outcome = { connected: false, message: loggedOut ? reason : reason.startsWith("WhatsApp login failed") ? reason : `WhatsApp login failed: ${reason}` };
    this.wake();
  }

  async start(p: WhatsAppLoginStartParams): Promise<WhatsAppLoginStartResult> {
    const linked = await authExists(this.authDir);
    if (linked && p.force !== true) {
      const self = this.conn.state.self;
      const who = self?.e164 ?? self?.jid ?? "this account";
      return { message: `WhatsApp is already linked (${who}). Say force to relink.` };
    }
    const existing = this.live();
    if (existing && existing.outcome === null && existing.qrDataUrl && existing.qr && p.force !== true) {
      return { qrDataUrl: existing.qrDataUrl, qr: existing.qr, message: SCAN_MESSAGE };
    }
    try {
      if (linked) await this.conn.logout(); // force: relink from scratch (deletes the auth dir)
      const session: Session = { startedAt: Date.now(), qr: null, qrDataUrl: null, outcome: null };
      this.session = session;
      await this.conn.connect();
      const timeoutMs = Math.max(p.timeoutMs ?? 30_000, 5000);
      await this.waitFor(() => session.qrDataUrl !== null || session.outcome !== null || this.session !== session, timeoutMs);
      if (session.qrDataUrl && session.qr) return { qrDataUrl: session.qrDataUrl, qr: session.qr, message: SCAN_MESSAGE };
      if (session.outcome?.connected) return { message: LINKED_MESSAGE };
      if (session.outcome) return { message: `Failed to get a WhatsApp QR: ${session.outcome.message}` };
      return { message: `Failed to get a WhatsApp QR: none arrived within ${timeoutMs} ms` };
    } catch (err) {
      return { message: `Failed to start WhatsApp login: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async wait(p: { timeoutMs?: number }): Promise<WhatsAppLoginWaitResult> {
    const s = this.session;
    if (!s) return { connected: false, message: "No active WhatsApp login in progress." };
    const remaining = s.startedAt + this.ttlMs - Date.now();
    if (s.outcome === null && remaining <= 0) {
      this.session = null;
      return { connected: false, message: "The login QR expired. Ask me to generate a new one." };
    }
    const requested = Math.max(p.timeoutMs ?? 120_000, 1000);
    // A wait that runs to the session's end reports the expiry (timers may fire a little
    // before the clock says the TTL has passed).
    const untilExpiry = requested >= remaining;
    const timeoutMs = Math.min(requested, Math.max(remaining, 0));
    await this.waitFor(() => s.outcome !== null || this.session !== s, timeoutMs);
    if (s.outcome) {
      if (this.session === s) this.session = null;
      return s.outcome;
    }
    if (untilExpiry || Date.now() - s.startedAt >= this.ttlMs) {
      if (this.session === s) this.session = null;
      return { connected: false, message: "The login QR expired. Ask me to generate a new one." };
    }
    return { connected: false, message: "Still waiting for the QR scan. Let me know when you've scanned it." };
  }

  /** Drops the session (logout). */
  cancel(): void {
    this.session = null;
    this.wake();
  }
}
