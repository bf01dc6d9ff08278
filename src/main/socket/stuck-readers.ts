/**
 * Closes clients that stopped reading while only droppable events flow.
 *
 * uWS skips a subscriber that is over `maxBackpressure` for droppable broadcasts, and a
 * must-deliver event closes it (event-bus.ts). A client that stops reading while only
 * droppable events flow would otherwise keep up to the limit buffered forever. Here a
 * socket whose backlog stays over the limit *without progress* for `stuckMs` (default
 * 30 s) is handed to `onStuck` (1008 "slow consumer").
 *
 * Progress: a socket on a slow link that is still draining is never closed. Any uWS
 * `drain` callback for the socket (bytes left the backlog) or a backlog smaller than at
 * the previous check counts as progress and restarts its period; so does being seen at
 * or under the limit. A truly stuck reader (zero TCP window) never drains.
 *
 * Cost: nothing here runs per event. A periodic check (every stuckMs/4, at most 5 s)
 * looks only at candidates: the ready operators (the sockets that receive the bulk of
 * broadcasts, a small set already walked per must-deliver event) and the sockets whose
 * own sends reported backpressure (`noteBackpressure`, e.g. a node whose unicasts pile
 * up). Nodes otherwise only receive ticks, far too small to reach the limit.
 */
import { Phase, type Connection } from "./connection.js";

/** Default time a backlog may stay over the limit without draining. */
export const DEFAULT_STUCK_READER_MS = 30_000;

export interface StuckReaderDeps {
  /** Buffered bytes past which a socket counts as over the limit (hot). */
  limit: () => number;
  /** Time over the limit without progress before `onStuck` (hot). */
  stuckMs: () => number;
  /** Sockets always checked (the ready operators). */
  candidates: () => Iterable<Connection>;
  onStuck: (conn: Connection, bufferedBytes: number) => void;
  now?: () => number;
}

interface OverState {
  /** Start of the current period without progress. */
  since: number;
  lastBuffered: number;
  /** A `drain` callback fired since the last check. */
  drained: boolean;
}

export class StuckReaderMonitor {
  /** Sockets (any role) that reported backpressure on a send of their own. */
  private readonly suspects = new Set<Connection>();
  private readonly over = new Map<Connection, OverState>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: StuckReaderDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Number of sockets currently tracked as over the limit. */
  get overLimit(): number {
    return this.over.size;
  }

  /** A send to `conn` returned backpressure: check it from now on. */
  noteBackpressure(conn: Connection): void {
    this.suspects.add(conn);
  }

  /** uWS `drain` for `conn`: its backlog is moving. O(1). */
  onDrain(conn: Connection): void {
    const st = this.over.get(conn);
    if (st) st.drained = true;
  }

  start(): void {
    if (this.timer) return;
    const arm = (): void => {
      const every = Math.min(5000, Math.max(10, Math.floor(this.deps.stuckMs() / 4)));
      this.timer = setTimeout(() => {
        this.check();
        if (this.timer) arm();
      }, every);
      this.timer.unref();
    };
    arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.over.clear();
    this.suspects.clear();
  }

  /** One pass over the candidates (public for tests with a fake clock). */
  check(): void {
    const now = this.now();
    const limit = this.deps.limit();
    const stuckMs = this.deps.stuckMs();
    const seen = new Set<Connection>();
    const visit = (conn: Connection): void => {
      if (seen.has(conn)) return;
      seen.add(conn);
      const ws = conn.ws;
      if (!ws || conn.phase !== Phase.Ready) {
        this.suspects.delete(conn);
        this.over.delete(conn);
        return;
      }
      const buffered = ws.getBufferedAmount();
      if (buffered <= limit) {
        this.over.delete(conn);
        if (buffered === 0) this.suspects.delete(conn);
        return;
      }
      const st = this.over.get(conn);
      if (!st) {
        this.over.set(conn, { since: now, lastBuffered: buffered, drained: false });
        return;
      }
      if (st.drained || buffered < st.lastBuffered) st.since = now;
      st.drained = false;
      st.lastBuffered = buffered;
      if (now - st.since >= stuckMs) {
        this.over.delete(conn);
        this.suspects.delete(conn);
        this.deps.onStuck(conn, buffered);
      }
    };
    for (const conn of this.deps.candidates()) visit(conn);
    for (const conn of [...this.suspects]) visit(conn);
    // Tracked sockets that left both sets (closed, role gone) are dropped.
    for (const conn of this.over.keys()) if (!seen.has(conn)) this.over.delete(conn);
  }
}
