/**
 * WhatsApp account worker entry for the WorkerSupervisor (ring link): owns the account's
 * Baileys socket (see whatsapp-connection.ts), answers `send/status/loginStart/loginWait/
 * logout`, and reports inbound messages, state, QR codes and logs as events.
 *
 * Crash contract: an uncaught exception or unhandled rejection (Baileys has had both)
 * ends the thread with code 1; the supervisor fails in-flight requests with UNAVAILABLE
 * and restarts the worker with backoff, and only this account is affected. The socket is
 * `ws` (plain JS), so a dying thread cannot take the process down with it.
 */
import { workerData } from "node:worker_threads";
import { connectWorker, isWorkerLinkData } from "../../../shared/ring/worker-link.js";
import type { WorkerEndpoint } from "../../../shared/ring/worker-link.js";
import { resolveReconnect } from "./backoff.js";
import { WHATSAPP_TEXT_CHUNK_LIMIT } from "./chunk-text.js";
import { WHATSAPP_MEDIA_MAX_BYTES } from "./media-content.js";
import { LoginSessions } from "./login-session.js";
import type { CreateSocket } from "./socket-types.js";
import { WhatsAppConnection } from "./whatsapp-connection.js";
import type { WhatsAppLinkProtocol, WhatsAppLogLevel, WhatsAppWorkerData } from "./whatsapp-link-protocol.js";

function die(err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`whatsapp worker: ${e.stack ?? e.message}\n`);
  process.exit(1);
}
process.on("uncaughtException", die);
process.on("unhandledRejection", die);

const data = (isWorkerLinkData(workerData) ? workerData.user : undefined) as WhatsAppWorkerData | undefined;
if (!data || typeof data.accountId !== "string" || typeof data.authDir !== "string") die(new Error("workerData.user must be WhatsAppWorkerData"));

/** The socket factory: Baileys unless a test substitutes the module (same code above it). */
async function loadFactory(): Promise<CreateSocket> {
  const mod = (await import(data?.socketFactoryModule ?? new URL(`./baileys-socket${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href)) as { createSocket?: unknown };
  if (typeof mod.createSocket !== "function") throw new Error("socket factory module has no createSocket export");
  return mod.createSocket as CreateSocket;
}
const factory = loadFactory();

let endpoint: WorkerEndpoint<WhatsAppLinkProtocol> | null = null;
/** Events to main; dropped once the link is closed (stopping), never thrown into Baileys' callbacks. */
function emit(event: WhatsAppLinkProtocol["main"]["events"]): void {
  if (!endpoint || endpoint.link.closed) return;
  try {
    endpoint.link.emit(event);
  } catch (err) {
    process.stderr.write(`whatsapp worker: event ${event.type} dropped: ${String(err)}\n`);
  }
}
const log = (level: WhatsAppLogLevel, msg: string, fields: Record<string, unknown>): void => emit({ type: "log", level, msg, fields });

const conn: WhatsAppConnection = new WhatsAppConnection(
  {
    accountId: data.accountId,
    authDir: data.authDir,
    createSocket: async (opts) => (await factory)(opts),
    factoryArg: data.socketFactoryArg,
    reconnect: resolveReconnect(data.reconnect),
    idleTimeoutMs: data.idleTimeoutMs ?? 30 * 60_000,
    textChunkLimit: data.textChunkLimit ?? WHATSAPP_TEXT_CHUNK_LIMIT,
    mediaMaxBytes: data.mediaMaxBytes ?? WHATSAPP_MEDIA_MAX_BYTES,
    mediaAllowPrivateNetwork: data.mediaAllowPrivateNetwork === true,
  },
  {
    onState: (s) => emit({ type: "state", ...s }),
    onQr: (qr) => {
      void login.onQr(qr).then(
        (dataUrl) => emit({ type: "qr", qr, dataUrl }),
        (err: unknown) => log("error", "whatsapp: rendering the QR failed", { err: String(err) }),
      );
    },
    onOpen: () => login.onOpen(),
    onGiveUp: (reason, loggedOut) => login.onGiveUp(reason, loggedOut),
    onInbound: (m) => emit({ type: "inbound", ...m }),
    log,
  },
);
const login = new LoginSessions(conn, data.authDir, data.loginTtlMs ?? 180_000);
// Requests that depend on the linked state wait for start() (creds read, socket opened).
const started = (async () => {
  await factory;
  await conn.start(data.autoConnect ?? true);
})();
const afterStart = async <T>(fn: () => T | Promise<T>): Promise<T> => {
  await started;
  return fn();
};

endpoint = connectWorker<WhatsAppLinkProtocol>(
  {
    requests: {
      send: (p) => afterStart(() => conn.send(p)),
      status: () => afterStart(() => conn.snapshot()),
      loginStart: (p) => afterStart(() => login.start(p)),
      loginWait: (p) => afterStart(() => login.wait(p)),
      logout: () =>
        afterStart(() => {
          login.cancel();
          return conn.logout();
        }),
    },
    events: {},
  },
  { onStop: () => conn.close() },
);

await started;
