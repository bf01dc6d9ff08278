/**
 * Server-side closes of unauthenticated sockets (evicted by the pre-auth budget, or past their
 * handshake deadline), done in short slices between event-loop turns instead of inside the uWS
 * callback or timer that decided them.
 *
 * Why: a close costs ~80 µs of main-thread time on loopback (close frame, TCP shutdown, and the
 * kernel's delivery of both to the peer, which runs in the sender's syscall). A flood decides
 * them in bursts — every new socket past `maxTotal` evicts one, inside the same uWS poll batch,
 * and deadlines expire in clumps of sockets opened in the same millisecond — so closing them
 * on the spot stalls the loop for tens of ms, and an authenticated client's request waits
 * behind it. Here each slice runs for `sliceMs`, then yields to the loop (a `setImmediate`
 * runs after the poll phase, so requests that arrived meanwhile are handled before the next
 * slice). Each slice also closes at least a quarter of the backlog: when the loop is saturated
 * (every poll brings more new sockets, each evicting one) a fixed time slice per turn would
 * fall behind and let closes lag past the handshake deadline with the sockets still open; with
 * the quarter rule the backlog stays within a few turns' worth of decisions, and a burst of n
 * closes is spread over O(log n) turns.
 *
 * Invariant: a queued socket is in `Phase.Closing` and already out of the pre-auth budget, so
 * it neither counts against new sockets nor completes a handshake (its frames are ignored)
 * while it waits; if the client closes first, its entry is skipped.
 */
import { performance } from "node:perf_hooks";
import { Phase, type Connection } from "./connection.js";

/** How one queued socket is closed (code, reason). */
export interface PreAuthClose {
  code: number;
  reason: string;
}

/** Closes a socket with a code and reason (the transport's `close`). */
export type CloseSocket = (conn: Connection, code: number, reason: string) => void;

/** Default time slice of closes before yielding to the event loop, in ms (see also MIN_SHARE). */
export const DEFAULT_CLOSE_SLICE_MS = 0.25;
/** Every slice closes at least this share of the backlog it starts with, whatever the time. */
const MIN_SHARE = 0.25;

export class PreAuthCloses {
  #queue: Connection[] = [];
  #head = 0;
  #scheduled = false;
  #stopped = false;

  /**
   * @param closeSocket sends the close (frame + shutdown)
   * @param sliceMs time slice of closes before yielding (at least a quarter of the backlog is
   *   closed regardless); default {@link DEFAULT_CLOSE_SLICE_MS}
   */
  constructor(
    private readonly closeSocket: CloseSocket,
    private readonly sliceMs = DEFAULT_CLOSE_SLICE_MS,
  ) {}

  /** Sockets waiting for their close. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Queues the close of an unauthenticated socket with `how` (a shared constant: nothing is
   * allocated per socket). The caller has already released it from the pre-auth budget.
   */
  add(conn: Connection, how: PreAuthClose): void {
    if (this.#stopped || conn.phase !== Phase.Pending) return;
    conn.phase = Phase.Closing;
    conn.pendingClose = how;
    this.#queue.push(conn);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /** Drops the queue (shutdown closes every open socket itself). */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#head = 0;
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    if (this.#stopped) return;
    const end = performance.now() + this.sliceMs;
    const q = this.#queue;
    const atLeast = this.#head + Math.ceil((q.length - this.#head) * MIN_SHARE);
    do {
      const conn = q[this.#head]!;
      q[this.#head++] = undefined as unknown as Connection;
      const how = conn.pendingClose;
      if (conn.phase === Phase.Closing && how) {
        conn.pendingClose = null;
        this.closeSocket(conn, how.code, how.reason);
      }
    } while (this.#head < q.length && (this.#head < atLeast || performance.now() < end));
    if (this.#head >= q.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    this.#scheduled = true;
    setImmediate(this.#drain);
  };
}
