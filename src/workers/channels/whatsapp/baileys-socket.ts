/**
 * The production socket factory: Baileys' `makeWASocket`, loaded with a dynamic import
 * so the library (and libsignal, GPL-3.0) is only ever loaded inside the WhatsApp
 * worker thread, and only when a WhatsApp account runs.
 */
import type { CreateSocketOptions, WaSocketLike } from "./socket-types.js";

type Level = "debug" | "info" | "warn" | "error";

/** Baileys' ILogger on top of the worker's log sink; trace/debug are dropped (very chatty). */
function makeLogger(log: CreateSocketOptions["log"], bindings: Record<string, unknown> = {}) {
  const fwd = (level: Level) => (obj: unknown, msg?: string): void => {
    const fields = typeof obj === "object" && obj !== null ? { ...bindings, ...(obj as Record<string, unknown>) } : bindings;
    const text = msg ?? (typeof obj === "string" ? obj : "baileys");
    log(level, text, fields);
  };
  const logger = {
    level: "info",
    child: (obj: Record<string, unknown>) => makeLogger(log, { ...bindings, ...obj }),
    trace: () => {},
    debug: () => {},
    info: fwd("info"),
    warn: fwd("warn"),
    error: fwd("error"),
  };
  return logger;
}

/** Opens a Baileys socket on `opts.auth`. */
export async function createSocket(opts: CreateSocketOptions): Promise<WaSocketLike> {
  const baileys = await import("@whiskeysockets/baileys");
  const logger = makeLogger(opts.log);
  const auth = opts.auth as Parameters<typeof baileys.makeCacheableSignalKeyStore>[0] extends infer K
    ? { creds: import("@whiskeysockets/baileys").AuthenticationCreds; keys: K }
    : never;
  const sock = baileys.makeWASocket({
    auth: { creds: auth.creds, keys: baileys.makeCacheableSignalKeyStore(auth.keys, logger) },
    logger,
    printQRInTerminal: false,
    browser: baileys.Browsers.macOS("Desktop"),
    syncFullHistory: false,
    markOnlineOnConnect: false,
  });
  return sock as unknown as WaSocketLike;
}
