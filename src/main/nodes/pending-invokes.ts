/**
 * `node.invoke` calls waiting for their `node.invoke.result` (§3.11, Appendix B.3).
 *
 *   byId: invoke id → PendingInvoke          (node.invoke.result looks it up)
 *   session.pending: Set<PendingInvoke>       (a disconnect fails them all at once)
 *   heap: one DeadlineHeap for every timeout  (no timer per invoke)
 *
 * Each invoke settles exactly once — with the node's result, a timeout or the node's
 * disconnect — and is then removed from all three structures.
 */
import { randomUUID } from "node:crypto";
import { DeadlineHeap, type HeapItem } from "../timers/deadline-heap.js";
import type { NodeSession, SessionBound } from "./node-session.js";

/** The node's answer as `node.invoke.result` delivered it (after pre-normalisation). */
export interface NodeInvokeReply {
  ok: boolean;
  payload?: unknown;
  payloadJSON: string | null;
  error: { code?: string; message?: string } | null;
}

/** How an invoke ended. */
export type InvokeOutcome = { kind: "reply"; reply: NodeInvokeReply } | { kind: "timeout" } | { kind: "disconnected" };

class PendingInvoke implements HeapItem, SessionBound {
  heapIndex = -1;

  constructor(
    readonly id: string,
    readonly session: NodeSession,
    readonly command: string,
    public deadline: number,
    readonly settle: (outcome: InvokeOutcome) => void,
  ) {}
}

/** Every `node.invoke` waiting for its node, with one shared timeout heap. */
export class PendingInvokes {
  private readonly byId = new Map<string, PendingInvoke>();
  private readonly heap = new DeadlineHeap<PendingInvoke>((p) => this.finish(p, { kind: "timeout" }));

  get size(): number {
    return this.byId.size;
  }

  /** A fresh invoke id (the gateway's, not the caller's idempotencyKey). */
  newId(): string {
    return randomUUID();
  }

  /** Waits for the result of invoke `id`, already sent to `session`, for at most `timeoutMs`. */
  wait(id: string, session: NodeSession, command: string, timeoutMs: number): Promise<InvokeOutcome> {
    return new Promise((resolve) => {
      const p = new PendingInvoke(id, session, command, Date.now() + timeoutMs, resolve);
      this.byId.set(id, p);
      (session.pending ??= new Set()).add(p);
      this.heap.add(p);
    });
  }

  /**
   * Delivers a node's result. False when the id is unknown (late, after a timeout or
   * disconnect) or belongs to another node: the caller answers `{ok:true, ignored:true}`.
   */
  complete(id: string, nodeId: string, reply: NodeInvokeReply): boolean {
    const p = this.byId.get(id);
    if (!p || p.session.nodeId !== nodeId) return false;
    this.finish(p, { kind: "reply", reply });
    return true;
  }

  /** Fails every invoke sent to `session` (its socket closed). Returns how many. */
  failSession(session: NodeSession): number {
    const set = session.pending;
    if (!set) return 0;
    session.pending = null;
    let n = 0;
    for (const item of set) {
      const p = item as PendingInvoke;
      if (this.byId.get(p.id) !== p) continue;
      this.byId.delete(p.id);
      this.heap.remove(p);
      p.settle({ kind: "disconnected" });
      n++;
    }
    return n;
  }

  /** Drops the timer; outstanding invokes are failed as disconnected. */
  close(): void {
    for (const p of [...this.byId.values()]) this.finish(p, { kind: "disconnected" });
    this.heap.close();
  }

  private finish(p: PendingInvoke, outcome: InvokeOutcome): void {
    if (this.byId.get(p.id) !== p) return;
    this.byId.delete(p.id);
    this.heap.remove(p);
    const set = p.session.pending;
    if (set) {
      set.delete(p);
      if (set.size === 0) p.session.pending = null;
    }
    p.settle(outcome);
  }
}
