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
 *   worker (re)started (fresh rings):
 *     emit capSync{digests: all open}        ───▶  valid = digests
 *
 * The secret never leaves the main thread and the worker never holds a token, only its
 * SHA-256: a request's token is hashed and looked up, so lookup timing says nothing about
 * valid tokens. A token is valid exactly while its session is open; a lost grant (worker
 * down) fails closed and is repaired by the next sync.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { CAPABILITY_PREFIX } from "./canvas-paths.js";

/** A token is base64url of a 32-byte HMAC: exactly 43 characters. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Events main sends to the canvas worker about capabilities (part of CanvasLinkProtocol). */
export type CapabilityEvent =
  | { type: "capGrant"; digest: string }
  | { type: "capRevoke"; digest: string }
  | { type: "capSync"; digests: string[] };

/** SHA-256 (hex) of a token: what the worker stores and compares. */
export function capabilityDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
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
    this.trySend({ type: "capSync", digests: [...this.open.values()] });
  }

  /** Sessions holding a capability. */
  get size(): number {
    return this.open.size;
  }

  private trySend(event: CapabilityEvent): void {
    try {
      this.send(event);
    } catch {
      // Worker down or ring overflowing: fails closed; `sync()` on the next start repairs it.
    }
  }
}

/** Worker side: the set of valid capabilities and the parsing of `/__cap/<token>/…`. */
export class CapabilityGate {
  private valid = new Set<string>();
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
        const next = new Set(event.digests);
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
