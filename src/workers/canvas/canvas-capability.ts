/**
 * Canvas capabilities: on a non-loopback bind the canvas host serves nothing without one.
 *
 *   main thread (CanvasCapabilityIssuer)            canvas worker (CapabilityGate)
 *   hello-ok for connection C:
 *     token = base64url(HMAC-SHA256(secret, C))
 *     canvasHostUrl = http://host:port/__cap/<token>
 *     emit capGrant{digest: sha256(token)}   ───▶  valid += digest
 *   connection C closes:
 *     emit capRevoke{digest}                 ───▶  valid -= digest; its live-reload sockets 1008
 *   worker (re)started (fresh rings), or a grant was refused by a full ring:
 *     emit capSync{digests, first, last}…    ───▶  valid = all digests (chunked, swapped at `last`)
 *
 * The secret never leaves the main thread and the worker never holds a token, only its
 * SHA-256: a request's token is hashed and looked up, so lookup timing says nothing about
 * valid tokens. A token is valid exactly while its session is open; a lost grant fails
 * closed and is repaired by the next sync (on the next worker start, or a second later when
 * the ring was full).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { GatewayError } from "../../shared/errors.js";
import { CAPABILITY_PREFIX } from "./canvas-paths.js";

/** A token is base64url of a 32-byte HMAC: exactly 43 characters. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Events main sends to the canvas worker about capabilities (part of CanvasLinkProtocol). */
export type CapabilityEvent =
  | { type: "capGrant"; digest: string }
  | { type: "capRevoke"; digest: string }
  | { type: "capSync"; digests: string[]; first: boolean; last: boolean };

/** Digests per `capSync` record: ~100 KiB, far below the 1 MiB ring however many sessions. */
export const SYNC_CHUNK = 2048;
/** Delay before a sync repairs grants a full ring refused. */
const REPAIR_DELAY_MS = 1000;

/** SHA-256 (base64url) of a token: what the worker stores and compares. */
export function capabilityDigest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** What hello-ok needs from the canvas host (on `GatewayContext.canvasAccess`). */
export interface CanvasAccess {
  /** Path to append to `http(s)://host:port` in this connection's `canvasHostUrl` (`/__cap/<token>`). */
  urlPrefixFor(connId: string): string;
}

/** Main-thread side: issues per-session capabilities and keeps the worker's set current. */
export class CanvasCapabilityIssuer implements CanvasAccess {
  private readonly secret = randomBytes(32);
  /** connId → digest of every session holding a capability. */
  private readonly open = new Map<string, string>();
  private repairTimer: NodeJS.Timeout | undefined;

  /** `send` delivers an event to the worker; it may throw while the worker is down (ignored: the next sync repairs it). */
  constructor(private readonly send: (event: CapabilityEvent) => void) {}

  /** The capability of `connId` (granted on first use; the same token for the whole session). */
  tokenFor(connId: string): string {
    const token = createHmac("sha256", this.secret).update(connId).digest("base64url");
    if (!this.open.has(connId)) {
      const digest = capabilityDigest(token);
      this.open.set(connId, digest);
      this.trySend({ type: "capGrant", digest });
    }
    return token;
  }

  urlPrefixFor(connId: string): string {
    return `${CAPABILITY_PREFIX}${this.tokenFor(connId)}`;
  }

  /** The session closed: its capability stops working. No-op for sessions without one. */
  revoke(connId: string): void {
    const digest = this.open.get(connId);
    if (digest === undefined) return;
    this.open.delete(connId);
    this.trySend({ type: "capRevoke", digest });
  }

  /** Sends the full set (after a worker (re)start: its rings, and its set, are new). */
  sync(): void {
    const all = [...this.open.values()];
    for (let i = 0; i === 0 || i < all.length; i += SYNC_CHUNK) {
      const event: CapabilityEvent = { type: "capSync", digests: all.slice(i, i + SYNC_CHUNK), first: i === 0, last: i + SYNC_CHUNK >= all.length };
      if (!this.trySend(event)) return; // the rest would be a partial set; the retry resends all
    }
  }

  /** Cancels a pending repair (gateway stopping). */
  close(): void {
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
  }

  /** Sessions holding a capability. */
  get size(): number {
    return this.open.size;
  }

  /** False when the event could not be sent. Fails closed either way. */
  private trySend(event: CapabilityEvent): boolean {
    try {
      this.send(event);
      return true;
    } catch (err) {
      // Worker down: the sync at its next start repairs it. Ring full (a reconnect storm
      // outrunning the worker): resync once it has had time to drain.
      if (err instanceof GatewayError && err.code === "GW_ERR_RING_OVERFLOW" && !this.repairTimer) {
        this.repairTimer = setTimeout(() => {
          this.repairTimer = undefined;
          this.sync();
        }, REPAIR_DELAY_MS);
        this.repairTimer.unref();
      }
      return false;
    }
  }
}

/** Worker side: the set of valid capabilities and the parsing of `/__cap/<token>/…`. */
export class CapabilityGate {
  private valid = new Set<string>();
  /** A chunked sync in progress (replaces `valid` at its last chunk). */
  private staging: Set<string> | undefined;
  private readonly revokeListeners = new Set<(digest: string) => void>();

  /** Applies one event from main. */
  apply(event: CapabilityEvent): void {
    switch (event.type) {
      case "capGrant":
        this.valid.add(event.digest);
        return;
      case "capRevoke":
        this.valid.delete(event.digest);
        this.notifyRevoked(event.digest);
        return;
      case "capSync": {
        if (event.first || !this.staging) this.staging = new Set();
        for (const d of event.digests) this.staging.add(d);
        if (!event.last) return;
        const next = this.staging;
        this.staging = undefined;
        for (const d of this.valid) if (!next.has(d)) this.notifyRevoked(d);
        this.valid = next;
        return;
      }
      default: {
        const unknown: never = event;
        throw new Error(`canvas: unknown capability event ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Called with the digest of every capability that stops being valid. */
  onRevoke(listener: (digest: string) => void): () => void {
    this.revokeListeners.add(listener);
    return () => this.revokeListeners.delete(listener);
  }

  /**
   * Splits `/__cap/<token>/<rest>` into the digest of a *valid* token, the mount
   * (`/__cap/<token>`) and the rest (`/<rest>`, query kept); null when the URL carries no
   * capability or one that is not (or no longer) valid.
   */
  admit(url: string): { digest: string; mount: string; rest: string } | null {
    if (!url.startsWith(CAPABILITY_PREFIX)) return null;
    const end = url.indexOf("/", CAPABILITY_PREFIX.length);
    if (end < 0) return null;
    const token = url.slice(CAPABILITY_PREFIX.length, end);
    if (!TOKEN_RE.test(token)) return null;
    const digest = capabilityDigest(token);
    if (!this.valid.has(digest)) return null;
    return { digest, mount: url.slice(0, end), rest: url.slice(end) };
  }

  /** Number of valid capabilities. */
  get size(): number {
    return this.valid.size;
  }

  private notifyRevoked(digest: string): void {
    for (const l of this.revokeListeners) l(digest);
  }
}
