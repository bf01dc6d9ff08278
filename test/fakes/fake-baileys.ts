/**
 * Fake of the object Baileys' `makeWASocket` returns, loaded INSIDE the WhatsApp worker
 * thread in place of the real factory (`WhatsAppWorkerData.socketFactoryModule`). It is
 * the narrowest boundary: an event emitter (`ev`) plus `sendMessage`, `logout`, `end` and
 * `user`. Everything above it (auth state on disk, reconnects, login, parsing, chunking)
 * is the production worker code.
 *
 * The test drives it over a BroadcastChannel named by `socketFactoryArg`
 * (see fake-baileys-control.ts): it reports `created`/`send`/`logout`/`end`, and obeys
 * `emit` (an event on a socket), `close` (a Boom-shaped close with a status code,
 * optionally wrapped), `pair` (sets `creds.me` and emits `creds.update`, as pairing does),
 * `failSends`, `crash` (an unhandled rejection inside the worker) and `spin` (a busy loop
 * that never yields: the worker stops answering heartbeats).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { BroadcastChannel } from "node:worker_threads";
import type { CreateSocketOptions, WaMessageContent, WaSocketLike } from "../../src/workers/channels/whatsapp/socket-types.js";

function mediaOf(c: WaMessageContent): { media?: FakeSentMedia } {
  for (const field of ["image", "video", "audio", "document"] as const) {
    if (!(field in c)) continue;
    const data = (c as Record<string, unknown>)[field] as Buffer;
    const o = c as { mimetype?: string; fileName?: string; gifPlayback?: boolean; ptt?: boolean };
    return {
      media: {
        field,
        sha256: createHash("sha256").update(data).digest("hex"),
        bytes: data.length,
        ...(o.mimetype !== undefined ? { mimetype: o.mimetype } : {}),
        ...(o.fileName !== undefined ? { fileName: o.fileName } : {}),
        ...(o.gifPlayback !== undefined ? { gifPlayback: o.gifPlayback } : {}),
        ...(o.ptt !== undefined ? { ptt: o.ptt } : {}),
      },
    };
  }
  return {};
}

/** Messages the fake reports to the test. */
export type FakeReport =
  | { op: "created"; n: number; registeredMe: string | null }
  | { op: "send"; n: number; jid: string; text: string; id: string; media?: FakeSentMedia }
  | { op: "logout"; n: number }
  | { op: "end"; n: number }
  | { op: "ack"; cmd: string };

/** A media message as the fake received it: its field (`image`, `video`, …), bytes and options. */
export interface FakeSentMedia {
  field: "image" | "video" | "audio" | "document";
  sha256: string;
  bytes: number;
  mimetype?: string;
  fileName?: string;
  gifPlayback?: boolean;
  ptt?: boolean;
}

/** Commands the test sends to the fake (`n` = socket number; default: the newest). */
export type FakeCommand =
  | { op: "emit"; n?: number; event: string; data: unknown }
  | { op: "close"; n?: number; status: number; message?: string; wrapped?: boolean }
  | { op: "open"; n?: number; user?: { id: string; lid?: string } }
  | { op: "pair"; n?: number; me: string }
  | { op: "failSends"; count: number }
  | { op: "crash" }
  | { op: "spin" };

interface FakeSock {
  n: number;
  ev: EventEmitter;
  auth: CreateSocketOptions["auth"];
  sock: WaSocketLike;
}

const channels = new Map<string, { bc: BroadcastChannel; socks: FakeSock[]; failSends: number }>();
let msgSeq = 0;

function boomLike(status: number, message: string): Error & { output: { statusCode: number; payload: { statusCode: number; message: string } }; isBoom: true } {
  return Object.assign(new Error(message), { isBoom: true as const, output: { statusCode: status, payload: { statusCode: status, message } } });
}

function hub(name: string): { bc: BroadcastChannel; socks: FakeSock[]; failSends: number } {
  let h = channels.get(name);
  if (h) return h;
  const bc = new BroadcastChannel(name);
  const fresh = { bc, socks: [] as FakeSock[], failSends: 0 };
  h = fresh;
  bc.unref();
  bc.onmessage = (ev: unknown) => {
    const cmd = (ev as { data: FakeCommand }).data;
    if (cmd.op === "failSends") {
      fresh.failSends = cmd.count;
      bc.postMessage({ op: "ack", cmd: "failSends" } satisfies FakeReport);
      return;
    }
    if (cmd.op === "crash") {
      void Promise.reject(new Error("fake baileys: injected unhandled rejection"));
      return;
    }
    if (cmd.op === "spin") {
      // Never yields: only the supervisor's terminate (heartbeat timeout) ends it.
      for (;;);
    }
    const target = cmd.n === undefined ? fresh.socks[fresh.socks.length - 1] : fresh.socks.find((s) => s.n === cmd.n);
    if (!target) return;
    if (cmd.op === "emit") target.ev.emit(cmd.event, cmd.data);
    else if (cmd.op === "open") {
      if (cmd.user) target.sock.user = cmd.user;
      target.ev.emit("connection.update", { connection: "open" });
    } else if (cmd.op === "close") {
      const err = boomLike(cmd.status, cmd.message ?? `Connection Failure (${cmd.status})`);
      target.ev.emit("connection.update", { connection: "close", lastDisconnect: { error: cmd.wrapped ? { error: err } : err, date: new Date() } });
    } else if (cmd.op === "pair") {
      const creds = target.auth.creds as { me?: { id: string }; registered?: boolean };
      creds.me = { id: cmd.me };
      creds.registered = true;
      target.sock.user = { id: cmd.me };
      target.ev.emit("creds.update", { me: creds.me });
    }
  };
  channels.set(name, fresh);
  return fresh;
}

/** The substituted factory (same signature as the Baileys one). */
export function createSocket(opts: CreateSocketOptions): WaSocketLike {
  if (!opts.factoryArg) throw new Error("fake baileys needs socketFactoryArg (the control channel name)");
  const h = hub(opts.factoryArg);
  const n = h.socks.length + 1;
  const ev = new EventEmitter();
  const report = (r: FakeReport): void => h.bc.postMessage(r);
  const sock: WaSocketLike = {
    ev: ev as unknown as WaSocketLike["ev"],
    user: undefined,
    async sendMessage(jid, content) {
      if (h.failSends > 0) {
        h.failSends--;
        throw new Error("fake baileys: send failed");
      }
      const id = `FAKE${++msgSeq}`;
      report({ op: "send", n, jid, text: "text" in content ? content.text : "caption" in content ? (content.caption ?? "") : "", id, ...mediaOf(content) });
      return { key: { id, remoteJid: jid, fromMe: true } };
    },
    async logout() {
      report({ op: "logout", n });
    },
    end() {
      report({ op: "end", n });
    },
  };
  h.socks.push({ n, ev, auth: opts.auth, sock });
  const me = (opts.auth.creds as { me?: { id?: string } }).me?.id ?? null;
  // After the factory returns, like Baileys (which connects asynchronously).
  setImmediate(() => report({ op: "created", n, registeredMe: me }));
  return sock;
}
