/**
 * Connected nodes by node id (§2.9): `nodeId = device.id ?? client.id`.
 *
 * A newer connection with the same id takes over the mapping; the older socket stays
 * open (as in the reference) and is parked in `replaced` only so that its own
 * disconnect can still fail the invokes sent to it — and, unlike the reference, does
 * not unregister the newer connection.
 */
import type { Connection } from "../socket/connection.js";
import type { NodeSession } from "./node-session.js";

/** Live node sessions by node id (plus replaced ones until their socket closes). */
export class NodeRegistry {
  private readonly byId = new Map<string, NodeSession>();
  private readonly replaced = new Map<Connection, NodeSession>();

  /** Connected node count. */
  get size(): number {
    return this.byId.size;
  }

  /** The live session of a node id. */
  get(nodeId: string): NodeSession | undefined {
    return this.byId.get(nodeId);
  }

  /** Every live session (insertion order). */
  sessions(): IterableIterator<NodeSession> {
    return this.byId.values();
  }

  /** The session of a connection (live or replaced), if it is a node. */
  sessionOf(conn: Connection): NodeSession | undefined {
    const nodeId = conn.nodeId;
    if (nodeId === undefined) return undefined;
    const live = this.byId.get(nodeId);
    return live?.conn === conn ? live : this.replaced.get(conn);
  }

  /** Adds a session; returns the one it replaced, if any. */
  register(session: NodeSession): NodeSession | undefined {
    const prev = this.byId.get(session.nodeId);
    this.byId.set(session.nodeId, session);
    if (prev && prev.conn !== session.conn) this.replaced.set(prev.conn, prev);
    return prev;
  }

  /** Removes the session of a closing connection (live or replaced). */
  unregister(conn: Connection): NodeSession | undefined {
    const nodeId = conn.nodeId;
    if (nodeId === undefined) return undefined;
    const live = this.byId.get(nodeId);
    if (live?.conn === conn) {
      this.byId.delete(nodeId);
      return live;
    }
    const old = this.replaced.get(conn);
    if (old) this.replaced.delete(conn);
    return old;
  }

  /** Forgets everything (server shutdown). */
  clear(): void {
    this.byId.clear();
    this.replaced.clear();
  }
}
