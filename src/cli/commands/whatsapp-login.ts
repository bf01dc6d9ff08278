/**
 * `clawdbot channels login --channel whatsapp [--account <id>] [--force]`: links a
 * WhatsApp account from the terminal. Runs the same supervised account worker as the
 * gateway (the same login code behind `web.login.start/wait`), locally, printing each QR
 * (they rotate about every 20 s) as terminal block art until the phone has scanned it.
 *
 * Run it while the gateway is stopped (or use `web.login.*` against the running gateway):
 * one account must have one socket, or WhatsApp answers 440 (conflict) to one of them.
 * The `channels` command group calls `runWhatsAppLogin`.
 */
import type { Writable } from "node:stream";
import { resolveStateDir } from "../../shared/config/paths.js";
import { DEFAULT_WHATSAPP_ACCOUNT, WhatsAppAccount, whatsappAuthDir } from "../../main/channels/whatsapp/whatsapp-account.js";
import type { WhatsAppAccountOptions } from "../../main/channels/whatsapp/whatsapp-account.js";

/** Options of runWhatsAppLogin. */
export interface WhatsAppLoginOptions {
  /** Account id. Default `default`. */
  accountId?: string;
  /** State dir. Default: resolveStateDir() (`~/.clawdbot`, CLAWDBOT_STATE_DIR, profiles). */
  stateDir?: string;
  /** Auth dir override (`channels.whatsapp.accounts.<id>.authDir`). Default `<stateDir>/credentials/whatsapp/<accountId>/`. */
  authDir?: string;
  /** Relink even when already linked. Default false. */
  force?: boolean;
  /** How long to wait for the first QR, in ms. Default 30 000. */
  qrTimeoutMs?: number;
  /** Where the QR and messages go. Default process.stdout. */
  out?: Writable;
  /** Worker overrides (tests substitute the socket factory here). Default none. */
  worker?: WhatsAppAccountOptions["worker"];
}

/** Terminal rendering of a QR payload (qrcode's small UTF-8 block output). */
export async function renderQrForTerminal(qr: string): Promise<string> {
  const QRCode = await import("qrcode");
  return QRCode.toString(qr, { type: "terminal", small: true });
}

/**
 * Runs the QR login. Resolves with the process exit code: 0 linked (or already linked),
 * 1 failed or expired.
 */
export async function runWhatsAppLogin(o: WhatsAppLoginOptions = {}): Promise<number> {
  const out = o.out ?? process.stdout;
  const accountId = o.accountId ?? DEFAULT_WHATSAPP_ACCOUNT;
  const authDir = o.authDir ?? whatsappAuthDir(o.stateDir ?? resolveStateDir(), accountId);
  const account = new WhatsAppAccount({ accountId, authDir, worker: { ...o.worker, autoConnect: false } });
  let lastPrinted: string | null = null;
  let printing: Promise<void> = Promise.resolve();
  const print = (qr: string): void => {
    if (qr === lastPrinted) return;
    lastPrinted = qr;
    printing = printing.then(async () => {
      out.write(`\n${await renderQrForTerminal(qr)}\nScan this QR in WhatsApp → Settings → Linked Devices → Link a device (account: ${accountId}).\n`);
    });
  };
  account.onQr((q) => print(q.qr));
  try {
    await account.start();
    const start = await account.loginStart({ force: o.force === true, timeoutMs: o.qrTimeoutMs });
    if (!start.qr) {
      out.write(`${start.message}\n`);
      return start.message.startsWith("WhatsApp is already linked") || start.message.startsWith("✅") ? 0 : 1;
    }
    print(start.qr);
    for (;;) {
      const w = await account.loginWait({ timeoutMs: 30_000 });
      await printing;
      if (w.connected) {
        out.write(`${w.message}\n`);
        return 0;
      }
      if (w.message.startsWith("Still waiting")) continue;
      out.write(`${w.message}\n`);
      return 1;
    }
  } finally {
    await account.stop(5000).catch(() => undefined);
  }
}
