/**
 * Gateway membership: every gateway puts its record into the members KV bucket once per
 * heartbeat, and watches the bucket to know which gateways are alive.
 *
 *   put   <members bucket>.<gatewayId> = {id, host, port, nodes, since, ts}   every heartbeat
 *   watch the whole bucket → seenAt per member (local clock)
 *   sweep every heartbeat/2: a member silent for 3 heartbeats is gone ("left")
 *   stop  → delete own record, so the others see it leave at once
 *
 * Liveness is judged here, from when a heartbeat arrived, not by the bucket's TTL: the
 * broker (2.9) drops expired records without telling watchers. The bucket TTL (3
 * heartbeats) only keeps the bucket from filling with the records of dead gateways.
 * `since` is the gateway's start time and identifies one run of it: a gateway that was
 * killed and restarted within the window comes back with another `since`, and whatever
 * was valid only for its previous run (node directory entries) is not valid any more.
 *
 * While the broker is down nothing arrives, so the other gateways are swept after 3
 * heartbeats: this gateway then sees itself alone, which is what it can vouch for.
 */
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ClusterConnection, BrokerHandles } from "./cluster-connection.js";
import type { ListenAddress } from "./cluster-host-links.js";

/** One gateway's membership record (the value in the members bucket). */
export interface MemberRecord {
  id: string;
  host: string | null;
  port: number | null;
  /** Nodes connected to it. */
  nodes: number;
  /** Its start time (ms): one value per run of the gateway. */
  since: number;
  /** When it wrote this record (its clock). */
  ts: number;
}

/** A member as `health.cluster.members` shows it. */
export interface LiveMember extends MemberRecord {
  self: boolean;
  /** Milliseconds since its last heartbeat arrived here. */
  lastSeenMs: number;
}

/** A membership change. */
export interface MemberChange {
  type: "joined" | "left";
  member: MemberRecord;
}

export interface ClusterMembersDeps {
  connection: ClusterConnection;
  bucket: string;
  gatewayId: string;
  heartbeatMs: number;
  log: Logger;
  /** The bound address (null until listening). */
  listening(): ListenAddress | null;
  /** Nodes connected to this gateway now. */
  nodeCount(): number;
}

interface Seen {
  record: MemberRecord;
  seenAt: number;
}

/** How many heartbeats a member may miss before it counts as gone. */
export const MEMBER_TTL_HEARTBEATS = 3;

/** Opens (or creates) the members bucket: history 1, TTL of 3 heartbeats. */
async function openBucket(h: BrokerHandles, bucket: string, heartbeatMs: number): Promise<KV> {
  try {
    return await h.kvm.create(bucket, { history: 1, ttl: heartbeatMs * MEMBER_TTL_HEARTBEATS });
  } catch {
    // Created earlier by a gateway with another heartbeat: use it as it is.
    return h.kvm.open(bucket);
  }
}

/** This gateway's view of the cluster's live gateways. */
export class ClusterMembers {
  readonly since = Date.now();
  private readonly seen = new Map<string, Seen>();
  private readonly listeners: ((c: MemberChange) => void)[] = [];
  private kv: KV | null = null;
  private watch: QueuedIterator<KvWatchEntry> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  private beating = false;

  constructor(private readonly deps: ClusterMembersDeps) {}

  /** Window after the last heartbeat in which a member counts as alive (ms). */
  get ttlMs(): number {
    return this.deps.heartbeatMs * MEMBER_TTL_HEARTBEATS;
  }

  /** Starts heartbeats and the watch; both are re-established at every broker reconnect. */
  start(): void {
    this.deps.connection.onConnected((h) => this.attach(h));
    this.heartbeat = setInterval(() => void this.beat(), this.deps.heartbeatMs);
    this.heartbeat.unref();
    this.sweeper = setInterval(() => this.sweep(), Math.max(25, Math.floor(this.deps.heartbeatMs / 2)));
    this.sweeper.unref();
  }

  /** Called on every membership change (after the view changed). */
  onChange(fn: (c: MemberChange) => void): void {
    this.listeners.push(fn);
  }

  /** True when `gatewayId` is alive in the run `since` (any run when omitted). */
  isLive(gatewayId: string, since?: number): boolean {
    if (gatewayId === this.deps.gatewayId) return since === undefined || since === this.since;
    const s = this.seen.get(gatewayId);
    return s !== undefined && (since === undefined || s.record.since === since);
  }

  /** Ids of the live members, this gateway included, sorted. */
  liveIds(): string[] {
    return [this.deps.gatewayId, ...[...this.seen.keys()].filter((id) => id !== this.deps.gatewayId)].sort();
  }

  /** Live members for `health.cluster.members`, this gateway first. */
  list(): LiveMember[] {
    const now = Date.now();
    const out: LiveMember[] = [{ ...this.selfRecord(now), self: true, lastSeenMs: 0 }];
    for (const [id, s] of this.seen) {
      if (id !== this.deps.gatewayId) out.push({ ...s.record, self: false, lastSeenMs: now - s.seenAt });
    }
    return out;
  }

  /**
   * Whether the broker still holds a heartbeat of `member`'s run: the bucket's TTL is
   * applied by the broker's clock, so unlike this gateway's view (which lags when its
   * event loop is busy) this does not mistake a slow-to-arrive heartbeat for a death.
   * Undefined while the broker cannot be asked.
   */
  async stillRecorded(member: Pick<MemberRecord, "id" | "since">): Promise<boolean | undefined> {
    const kv = this.kv;
    if (!kv || !this.deps.connection.available()) return undefined;
    try {
      const e = await kv.get(member.id);
      if (!e || e.operation !== "PUT") return false;
      return e.json<MemberRecord>().since === member.since;
    } catch {
      return undefined;
    }
  }

  private selfRecord(now: number): MemberRecord {
    const addr = this.deps.listening();
    return { id: this.deps.gatewayId, host: addr?.host ?? null, port: addr?.port ?? null, nodes: this.deps.nodeCount(), since: this.since, ts: now };
  }

  private async attach(h: BrokerHandles): Promise<void> {
    if (this.closed) return;
    try {
      await this.open(h);
    } catch (err) {
      // A busy broker can time an attach out; nothing else would retry it before the next reconnect.
      this.deps.log.warn({ err: String(err) }, "cluster: membership could not attach; retrying");
      const t = setTimeout(() => {
        const now = this.deps.connection.current();
        if (now && !this.closed) void this.attach(now);
      }, this.deps.heartbeatMs);
      t.unref();
    }
  }

  private async open(h: BrokerHandles): Promise<void> {
    const kv = await openBucket(h, this.deps.bucket, this.deps.heartbeatMs);
    this.kv = kv;
    await this.beat();
    this.watch?.stop();
    const watch = await kv.watch();
    this.watch = watch;
    void this.consume(watch);
  }

  private async consume(watch: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const e of watch) {
        if (this.watch !== watch) break;
        this.apply(e);
      }
    } catch (err) {
      this.deps.log.debug({ err: String(err) }, "cluster: members watch ended");
    }
  }

  private apply(e: KvWatchEntry): void {
    const id = e.key;
    if (id === this.deps.gatewayId) return;
    if (e.operation !== "PUT") {
      this.drop(id);
      return;
    }
    let record: MemberRecord;
    try {
      record = e.json<MemberRecord>();
    } catch {
      return;
    }
    const now = Date.now();
    // Records from the initial snapshot may be old (a gateway that died just before we
    // attached): age them by the broker's timestamp so they are swept on time.
    const seenAt = e.isUpdate ? now : Math.min(now, e.created.getTime());
    const prev = this.seen.get(id);
    this.seen.set(id, { record, seenAt });
    if (prev && prev.record.since !== record.since) this.emit({ type: "left", member: prev.record });
    if (!prev || prev.record.since !== record.since) this.emit({ type: "joined", member: record });
  }

  private drop(id: string): void {
    const prev = this.seen.get(id);
    if (!prev) return;
    this.seen.delete(id);
    this.emit({ type: "left", member: prev.record });
  }

  private sweep(): void {
    const cutoff = Date.now() - this.ttlMs;
    for (const [id, s] of this.seen) if (s.seenAt < cutoff) this.drop(id);
  }

  private async beat(): Promise<void> {
    const kv = this.kv;
    // One heartbeat in flight at most: a slow broker must not pile puts up behind it.
    if (!kv || this.closed || this.beating || !this.deps.connection.available()) return;
    this.beating = true;
    try {
      await kv.put(this.deps.gatewayId, JSON.stringify(this.selfRecord(Date.now())));
    } catch (err) {
      this.deps.log.debug({ err: String(err) }, "cluster: membership heartbeat failed");
    } finally {
      this.beating = false;
    }
  }

  private emit(c: MemberChange): void {
    for (const fn of this.listeners) {
      try {
        fn(c);
      } catch (err) {
        this.deps.log.warn({ err: String(err) }, "cluster: membership listener failed");
      }
    }
  }

  /** Stops heartbeats and removes this gateway's record so the others see it leave now. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.sweeper) clearInterval(this.sweeper);
    this.watch?.stop();
    this.watch = null;
    const kv = this.kv;
    if (kv && this.deps.connection.available()) await kv.delete(this.deps.gatewayId).catch(() => undefined);
  }
}
