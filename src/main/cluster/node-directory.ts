/**
 * The cluster's node directory: which gateway each connected node is on, in a KV bucket
 * (key = node id, value = DirectoryRecord), mirrored into memory by a watch so lookups,
 * `node.list` and `node.describe` never wait on the broker.
 *
 * Writes are per event, never per heartbeat, so 15,000 nodes cost nothing while idle:
 *
 *   node connects here       → put  {nodeId, gw: self, since: self run, info}
 *   node leaves here         → delete, conditional on the revision we wrote (a node that
 *                              already reconnected to another gateway keeps that entry)
 *   watch snapshot complete  → reconcile: put local nodes the bucket lacks (written while
 *   (start, every reconnect,   the broker was down, or timed out), delete our entries for
 *   a window after a failed    nodes that are gone (a previous run of this gateway, lost
 *   write)                     deletes)
 *   someone deletes the entry
 *   of a node connected here → put it again (self-heal after a false "gateway gone")
 *
 * An entry counts only while its owner's run (`gw` + `since`) is a live member
 * (cluster-members.ts): when a gateway dies all its nodes vanish from every view within
 * the membership window (3 heartbeats), without anyone rewriting 15,000 keys. At most
 * 128 writes are in flight, so a connection storm queues instead of timing out. The lowest
 * live gateway then removes the dead run's entries from the bucket, only to keep it small.
 */
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { NodeRegistry } from "../nodes/node-registry.js";
import type { NodeSession } from "../nodes/node-session.js";
import type { RemoteNode } from "../nodes/remote-node-router.js";
import type { BrokerHandles, ClusterConnection } from "./cluster-connection.js";
import type { ClusterMembers, MemberRecord } from "./cluster-members.js";
import { KeyedWriteQueue } from "./keyed-write-queue.js";
import { directoryKey, parseDirectoryRecord, type DirectoryRecord } from "./node-directory-entry.js";

export interface NodeDirectoryDeps {
  connection: ClusterConnection;
  bucket: string;
  gatewayId: string;
  members: ClusterMembers;
  /** This gateway's connected nodes. */
  registry: NodeRegistry;
  /** Whether a node id is paired as a node in this gateway's pairing store. */
  isPaired(nodeId: string): boolean;
  log: Logger;
  /** How long to wait for the watch's initial snapshot before reconciling anyway (ms). */
  snapshotTimeoutMs: number;
}

interface Cached {
  record: DirectoryRecord;
  rev: number;
}

/** `health.cluster.nodeDirectory`. */
export interface NodeDirectoryStats {
  /** Records in the local mirror (any owner, live or not). */
  entries: number;
  /** Nodes of other live gateways. */
  remote: number;
  /** Directory writes not yet acknowledged. */
  pendingWrites: number;
  /** True once the mirror holds a complete snapshot. */
  synced: boolean;
}

/** Deletes of a dead run's entries in flight at once (janitor). */
const JANITOR_CONCURRENCY = 64;
/** Directory puts/deletes in flight at once. */
const MAX_WRITES_IN_FLIGHT = 128;

export class NodeDirectory {
  /** KV key → record; replaced as a whole when a new watch finished its snapshot. */
  private entries = new Map<string, Cached>();
  /** Revision of this gateway's last put per key (conditional delete on disconnect). */
  private readonly ownRevs = new Map<string, number>();
  /** A node's put and delete reach the broker in order; at most 128 writes in flight. */
  private readonly writes = new KeyedWriteQueue(MAX_WRITES_IN_FLIGHT, (key, err) => {
    // A timed-out put may still have been stored: the reconcile compares the mirror (what
    // the broker holds) with the local sessions and redoes only what is missing.
    this.deps.log.debug({ key, err: String(err) }, "cluster: node directory write failed; reconciling");
    this.scheduleReconcile();
  });
  private kv: KV | null = null;
  private watch: QueuedIterator<KvWatchEntry> | null = null;
  private synced = false;
  private closed = false;
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: NodeDirectoryDeps) {}

  /** Attaches at every broker (re)connect and cleans up after dead gateways. */
  start(): void {
    this.deps.connection.onConnected((h) => this.attach(h));
    this.deps.members.onChange((c) => {
      if (c.type === "left") this.scheduleJanitor(c.member);
    });
  }

  /** A node connected here (or its connection was replaced): record it. */
  publish(session: NodeSession): void {
    const key = directoryKey(session.nodeId);
    const record: DirectoryRecord = { nodeId: session.nodeId, gw: this.deps.gatewayId, since: this.deps.members.since, info: session.info(), paired: this.deps.isPaired(session.nodeId) };
    this.enqueue(key, async (kv) => {
      this.ownRevs.set(key, await kv.put(key, JSON.stringify(record)));
    });
  }

  /** The node has no connection here any more: remove our entry (only if still ours). */
  unpublish(nodeId: string): void {
    const key = directoryKey(nodeId);
    this.enqueue(key, async (kv) => {
      if (this.deps.registry.get(nodeId)) return;
      const cached = this.entries.get(key);
      const rev = this.ownRevs.get(key) ?? (cached?.record.gw === this.deps.gatewayId ? cached.rev : undefined);
      this.ownRevs.delete(key);
      if (rev === undefined) return;
      await kv.delete(key, { previousSeq: rev }).catch(() => undefined);
    });
  }

  /** A node of another live gateway. */
  lookup(nodeId: string): RemoteNode | undefined {
    const c = this.entries.get(directoryKey(nodeId));
    return c && this.valid(c.record) ? toRemote(c.record) : undefined;
  }

  /** Every node of other live gateways. */
  *remoteNodes(): Generator<RemoteNode> {
    for (const c of this.entries.values()) if (this.valid(c.record)) yield toRemote(c.record);
  }

  stats(): NodeDirectoryStats {
    let remote = 0;
    for (const c of this.entries.values()) if (this.valid(c.record)) remote++;
    return { entries: this.entries.size, remote, pendingWrites: this.writes.size, synced: this.synced };
  }

  /** Resolves when every queued directory write has settled (tests, shutdown). */
  flushed(): Promise<void> {
    return this.writes.drained();
  }

  private valid(r: DirectoryRecord): boolean {
    return r.gw !== this.deps.gatewayId && this.deps.members.isLive(r.gw, r.since);
  }

  private enqueue(key: string, op: (kv: KV) => Promise<void>): void {
    this.writes.push(key, async () => {
      const kv = this.kv;
      // While the broker is down the write is dropped: the reconcile at reconnect redoes it.
      if (!kv || this.closed || !this.deps.connection.available()) return;
      await op(kv);
    });
  }

  private scheduleReconcile(): void {
    if (this.reconcileTimer || this.closed) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = null;
      if (this.synced && this.deps.connection.available()) this.reconcile();
      else this.scheduleReconcile();
    }, this.deps.members.ttlMs);
    this.reconcileTimer.unref();
  }

  private async attach(h: BrokerHandles): Promise<void> {
    if (this.closed) return;
    try {
      await this.open(h);
    } catch (err) {
      // A busy broker can time an attach out; nothing else would retry it before the next reconnect.
      this.deps.log.warn({ err: String(err) }, "cluster: node directory could not attach; retrying");
      const t = setTimeout(() => {
        const now = this.deps.connection.current();
        if (now && !this.closed) void this.attach(now);
      }, this.deps.members.ttlMs);
      t.unref();
    }
  }

  private async open(h: BrokerHandles): Promise<void> {
    let kv: KV;
    try {
      kv = await h.kvm.create(this.deps.bucket, { history: 1 });
    } catch {
      kv = await h.kvm.open(this.deps.bucket);
    }
    this.kv = kv;
    this.watch?.stop();
    const watch = await kv.watch();
    this.watch = watch;
    const empty = (await kv.status()).values === 0;
    void this.consume(watch, empty);
  }

  /**
   * Feeds a fresh map from the watch; once its snapshot is complete (the broker's pending
   * count reaches 0, the bucket was empty, or the timeout passed) the map replaces the
   * mirror, the directory is reconciled, and later updates go to the mirror directly.
   */
  private async consume(watch: QueuedIterator<KvWatchEntry>, empty: boolean): Promise<void> {
    const next = new Map<string, Cached>();
    let done = false;
    const finish = (): void => {
      if (done || this.watch !== watch) return;
      done = true;
      this.entries = next;
      this.synced = true;
      this.reconcile();
    };
    if (empty) finish();
    const timer = setTimeout(finish, this.deps.snapshotTimeoutMs);
    timer.unref();
    try {
      for await (const e of watch) {
        if (this.watch !== watch) break;
        this.apply(next, e, done);
        if (!done && e.delta === 0) finish();
      }
    } catch (err) {
      this.deps.log.debug({ err: String(err) }, "cluster: node directory watch ended");
    } finally {
      clearTimeout(timer);
    }
  }

  private apply(map: Map<string, Cached>, e: KvWatchEntry, live: boolean): void {
    if (e.operation === "PUT") {
      const record = parseDirectoryRecord(e.string());
      if (record) map.set(e.key, { record, rev: e.revision });
      else map.delete(e.key);
      return;
    }
    const prev = map.get(e.key);
    map.delete(e.key);
    // Our node's entry was removed by someone else (the janitor judged this gateway gone
    // during a stall): put it back.
    if (live && prev) {
      const session = this.deps.registry.get(prev.record.nodeId);
      if (session && !this.writes.has(e.key)) this.publish(session);
    }
  }

  private reconcile(): void {
    const self = this.deps.gatewayId;
    const since = this.deps.members.since;
    let put = 0;
    let removed = 0;
    for (const session of this.deps.registry.sessions()) {
      const key = directoryKey(session.nodeId);
      // A write in flight for the key settles it; the mirror has not seen it yet.
      if (this.writes.has(key)) continue;
      const c = this.entries.get(key);
      if (c && c.record.gw === self && c.record.since === since) continue;
      // Another gateway's claim on a node connected here is left alone: each gateway
      // routes to its own session first, and fighting over the key would ping-pong.
      if (c && c.record.gw !== self && this.deps.members.isLive(c.record.gw, c.record.since)) continue;
      this.publish(session);
      put++;
    }
    for (const [key, c] of this.entries) {
      if (c.record.gw !== self || this.deps.registry.get(c.record.nodeId) || this.writes.has(key)) continue;
      this.enqueue(key, async (kv) => {
        this.ownRevs.delete(key);
        await kv.delete(key, { previousSeq: c.rev }).catch(() => undefined);
      });
      removed++;
    }
    if (put > 0 || removed > 0) this.deps.log.info({ put, removed }, "cluster: node directory reconciled");
  }

  /**
   * Removes a dead run's entries from the bucket (they are already invisible). Only the
   * lowest live gateway does it, one membership window later, and only once the broker has
   * expired the member's record too (its TTL runs on the broker's clock, so a busy watcher
   * cannot mistake late heartbeats for a death); each delete is conditional on the
   * revision seen.
   */
  private scheduleJanitor(member: MemberRecord): void {
    const t = setTimeout(() => void this.sweepDead(member), this.deps.members.ttlMs);
    t.unref();
  }

  private async sweepDead(member: MemberRecord): Promise<void> {
    const kv = this.kv;
    if (this.closed || !kv || !this.deps.connection.available()) return;
    if (this.deps.members.isLive(member.id, member.since)) return;
    if (this.deps.members.liveIds()[0] !== this.deps.gatewayId) return;
    // Our view may lag (busy event loop); the broker's TTL decides whether it is really gone.
    if ((await this.deps.members.stillRecorded(member)) !== false) return;
    const stale = [...this.entries].filter(([, c]) => c.record.gw === member.id && c.record.since === member.since);
    for (let i = 0; i < stale.length; i += JANITOR_CONCURRENCY) {
      await Promise.all(stale.slice(i, i + JANITOR_CONCURRENCY).map(([key, c]) => kv.delete(key, { previousSeq: c.rev }).catch(() => undefined)));
    }
    if (stale.length > 0) this.deps.log.info({ gatewayId: member.id, entries: stale.length }, "cluster: removed node directory entries of a gone gateway");
  }

  /** Stops the watch; the owner's membership record going away invalidates our entries. */
  close(): void {
    this.closed = true;
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    this.watch?.stop();
    this.watch = null;
  }
}

function toRemote(r: DirectoryRecord): RemoteNode {
  return { nodeId: r.nodeId, gatewayId: r.gw, info: r.info, paired: r.paired === true };
}
