/**
 * Channel pairing (§10.2): unknown DM senders under `dmPolicy: "pairing"` get a code; the
 * owner approves it (`clawdbot pairing approve <channel> <code>`) and the sender lands in
 * the approved list.
 *
 *   <stateDir>/credentials/<channel>-pairing.json    {version:1, requests:[{id, code, createdAt, lastSeenAt, meta}]}
 *   <stateDir>/credentials/<channel>-allowFrom.json  {version:1, allowFrom:[id…]}
 *
 * Written atomically (temp + fsync + rename), mode 0600. Codes: 8 characters from an
 * alphabet without look-alikes, from crypto randomness; 1 h TTL; at most 3 pending per
 * channel (a 4th unknown sender gets nothing). Both the gateway and the CLI use this file
 * pair; the gateway re-reads the approved list when an unknown sender writes, so an
 * approval works without a restart. Writes within one process are serialised.
 */
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { GatewayError } from "../../shared/errors.js";
import { readJsonFile, writeJsonAtomic } from "../../shared/store/atomic-json.js";

export const PAIRING_TTL_MS = 60 * 60 * 1000;
export const PAIRING_MAX_PENDING = 3;
const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LENGTH = 8;

/** A pending pairing request. */
export interface ChannelPairingRequest {
  /** Sender id on the channel. */
  id: string;
  code: string;
  createdAt: number;
  lastSeenAt: number;
  meta?: { username?: string; name?: string };
}

interface PairingFile {
  version: 1;
  requests: ChannelPairingRequest[];
}
interface AllowFile {
  version: 1;
  allowFrom: string[];
}

const isPairingFile = (v: unknown): v is PairingFile => typeof v === "object" && v !== null && Array.isArray((v as PairingFile).requests);
const isAllowFile = (v: unknown): v is AllowFile => typeof v === "object" && v !== null && Array.isArray((v as AllowFile).allowFrom);

function newCode(): string {
  let s = "";
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

/** The pairing files of one channel. */
export class ChannelPairingStore {
  readonly pairingFile: string;
  readonly allowFile: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string, readonly channel: string, private readonly now: () => number = Date.now) {
    const dir = join(stateDir, "credentials");
    this.pairingFile = join(dir, `${channel}-pairing.json`);
    this.allowFile = join(dir, `${channel}-allowFrom.json`);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #readPairing(): Promise<PairingFile> {
    const f = await readJsonFile<PairingFile>(this.pairingFile, { fallback: () => ({ version: 1, requests: [] }), validate: isPairingFile, onCorrupt: "quarantine" });
    const now = this.now();
    return { version: 1, requests: f.requests.filter((r) => now - r.createdAt < PAIRING_TTL_MS) };
  }

  /** Approved sender ids. */
  async approved(): Promise<string[]> {
    const f = await readJsonFile<AllowFile>(this.allowFile, { fallback: () => ({ version: 1, allowFrom: [] }), validate: isAllowFile, onCorrupt: "quarantine" });
    return f.allowFrom.map(String);
  }

  /** Pending (unexpired) requests. */
  async list(): Promise<ChannelPairingRequest[]> {
    return (await this.#readPairing()).requests;
  }

  /**
   * The sender's request: `created` true when a new code was issued (send it), false when
   * one was pending already (do not spam). Null when the pending limit is reached.
   */
  upsert(id: string, meta: ChannelPairingRequest["meta"]): Promise<{ request: ChannelPairingRequest; created: boolean } | null> {
    return this.#serial(async () => {
      const f = await this.#readPairing();
      const now = this.now();
      const existing = f.requests.find((r) => r.id === id);
      if (existing) {
        existing.lastSeenAt = now;
        await writeJsonAtomic(this.pairingFile, f, { mode: 0o600 });
        return { request: existing, created: false };
      }
      if (f.requests.length >= PAIRING_MAX_PENDING) return null;
      const taken = new Set(f.requests.map((r) => r.code));
      let code = newCode();
      while (taken.has(code)) code = newCode();
      const request: ChannelPairingRequest = { id, code, createdAt: now, lastSeenAt: now, ...(meta ? { meta } : {}) };
      f.requests.push(request);
      await writeJsonAtomic(this.pairingFile, f, { mode: 0o600 });
      return { request, created: true };
    });
  }

  /** Approves a pending code: the sender joins the approved list, the request goes. */
  approve(code: string): Promise<ChannelPairingRequest> {
    return this.#serial(async () => {
      const f = await this.#readPairing();
      const want = code.trim().toUpperCase();
      const req = f.requests.find((r) => r.code === want);
      if (!req) throw new GatewayError("GW_ERR_CHANNEL_PAIRING_UNKNOWN_CODE", `no pending ${this.channel} pairing request with code ${want}`, { channel: this.channel });
      const allow = await this.approved();
      if (!allow.includes(req.id)) allow.push(req.id);
      await writeJsonAtomic(this.allowFile, { version: 1, allowFrom: allow }, { mode: 0o600 });
      f.requests = f.requests.filter((r) => r !== req);
      await writeJsonAtomic(this.pairingFile, f, { mode: 0o600 });
      return req;
    });
  }
}

/** The message a sender gets with a new code. */
export function pairingReplyText(channel: string, code: string, senderId: string): string {
  return `Clawdbot: access not configured.\n\nYour ${channel} user id: ${senderId}\nPairing code: ${code}\n\nAsk the bot owner to approve with:\nclawdbot pairing approve ${channel} ${code}`;
}
