/**
 * At most one poller per bot token (Telegram answers a second concurrent getUpdates with
 * 409 and the reference got stuck in permanent 409s).
 *
 * The channels module takes a lease on the token before it starts an account's worker and
 * releases it only after that supervisor's `stop()` resolved, i.e. after the worker thread
 * exited (the supervisor terminates one that does not stop in time and awaits its exit). The
 * supervisor itself spawns a replacement only after the previous incarnation's `exit`. So
 * across crashes, restarts, reloads and logout there is never more than one live thread
 * polling one token. A second account configured with the same token is refused.
 */
import { createHash } from "node:crypto";

export class TokenLeases {
  readonly #holders = new Map<string, string>();

  static #key(token: string): string {
    return createHash("sha256").update(token).digest("hex");
  }

  /** Takes the lease for `holder`; returns the current holder when someone else has it. */
  acquire(token: string, holder: string): { ok: true } | { ok: false; heldBy: string } {
    const k = TokenLeases.#key(token);
    const cur = this.#holders.get(k);
    if (cur !== undefined && cur !== holder) return { ok: false, heldBy: cur };
    this.#holders.set(k, holder);
    return { ok: true };
  }

  /** Releases the lease if `holder` has it. Call only once its worker is gone. */
  release(token: string, holder: string): void {
    const k = TokenLeases.#key(token);
    if (this.#holders.get(k) === holder) this.#holders.delete(k);
  }
}
