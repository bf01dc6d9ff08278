/**
 * In-process counters the gateway's hot paths bump where each event happens (a socket
 * frame, a handshake, a close, an RPC, a broadcast, a worker restart, an agent run).
 *
 * Invariants that keep the hot paths cheap:
 * - A bump is a number increment, or a few array slots for a histogram observation; no
 *   allocation, no label hashing, no logging. `prom-client` is never imported here: the
 *   `/metrics` route loads it lazily at the first scrape (metrics-registry.ts) and converts
 *   these numbers at scrape time.
 * - Nothing here walks sockets. Gauges that describe the socket population (sockets by
 *   role) are read at scrape time from set sizes the registry already maintains.
 * - Label sets are bounded: RPC latency is kept only for methods found in the method table
 *   (the router times nothing else), close codes are integers, worker names come from code.
 *
 * The counters are process-wide (one gateway per process in production; tests that start
 * several gateways in one process compare deltas).
 */

/** Upper bounds (seconds) of the RPC latency histogram. */
export const RPC_BUCKETS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Upper bounds (seconds) of the broadcast fan-out histogram (publish to every view of an event). */
export const FANOUT_BUCKETS_S: readonly number[] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

/**
 * A fixed-bucket histogram on a Float64Array: per-bucket counts (not cumulative; the
 * last slot is +Inf), then sum and count. `observe` is a short linear scan over ≤ 16 bounds.
 */
export class BucketHistogram {
  readonly bounds: readonly number[];
  /** [bucket counts… (+Inf last)] */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation in seconds. */
  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A worker (ring producer) the scrape reads ring figures from. */
export interface RingSource {
  readonly name: string;
  /** Overflow-queue figures of the main → worker ring, or null while no worker runs. */
  ringStats(): { queuedRecords: number; overflowed: number; rejected: number } | null;
}

/** Outcomes an agent run is counted under. */
export type AgentRunOutcome = "ok" | "error" | "aborted" | "timeout";

/** The counters. Fields are public for the bump sites and the scrape; only ever incremented. */
export class GatewayMetrics {
  /** Sockets accepted (WS open). */
  socketsOpened = 0;
  /** Completed handshakes (hello-ok, socket marked ready). */
  handshakes = 0;
  /** Sockets that closed before completing the handshake, by close code. */
  readonly handshakeFailures = new Map<number, number>();
  framesIn = 0;
  bytesIn = 0;
  /** Unicast frames (responses, unicast events) and their length in UTF-16 code units (= bytes for ASCII JSON). */
  framesOut = 0;
  bytesOut = 0;
  /** Broadcast publishes (one per view topic) and their frame length; uWS fans each out to its subscribers. */
  broadcastFrames = 0;
  broadcastBytes = 0;
  readonly fanout = new BucketHistogram(FANOUT_BUCKETS_S);
  slowConsumerCloses = 0;
  tooBigCloses = 0;
  /** RPC latency per method (methods of the method table only). */
  readonly rpc = new Map<string, BucketHistogram>();
  readonly workerRestarts = new Map<string, number>();
  readonly agentRuns = new Map<string, number>();
  /** Workers whose rings the scrape reads (added at start, removed at stop). */
  readonly rings = new Set<RingSource>();

  /** One inbound frame of `bytes`. */
  frameIn(bytes: number): void {
    this.framesIn++;
    this.bytesIn += bytes;
  }

  /** One unicast frame of `length` UTF-16 code units. */
  frameOut(length: number): void {
    this.framesOut++;
    this.bytesOut += length;
  }

  /** One broadcast publish of `length` code units. */
  broadcast(length: number): void {
    this.broadcastFrames++;
    this.broadcastBytes += length;
  }

  /** A socket closed before its handshake completed. */
  handshakeFailed(code: number): void {
    this.handshakeFailures.set(code, (this.handshakeFailures.get(code) ?? 0) + 1);
  }

  /** An RPC of a known method finished, `startMs` from `performance.now()`. */
  rpcDone(method: string, startMs: number): void {
    let h = this.rpc.get(method);
    if (h === undefined) this.rpc.set(method, (h = new BucketHistogram(RPC_BUCKETS_S)));
    h.observe((performance.now() - startMs) / 1000);
  }

  /** A broadcast's fan-out (every publish of one event) took since `startMs`. */
  fanoutDone(startMs: number): void {
    this.fanout.observe((performance.now() - startMs) / 1000);
  }

  /** A supervised worker was restarted. */
  workerRestarted(name: string): void {
    this.workerRestarts.set(name, (this.workerRestarts.get(name) ?? 0) + 1);
  }

  /** An agent run ended with `outcome` (the agent module calls this). */
  agentRunEnded(outcome: AgentRunOutcome): void {
    this.agentRuns.set(outcome, (this.agentRuns.get(outcome) ?? 0) + 1);
  }
}

/** The process-wide counters the hot paths bump. */
export const gatewayMetrics = new GatewayMetrics();

/** Names of the close codes a failed handshake ends with (label `reason`). */
export function closeCodeReason(code: number): string {
  switch (code) {
    case 1000:
      // handshake deadline passed, or a first frame that was not JSON
      return "normal";
    case 1001:
    case 1005:
    case 1006:
      return "client-gone";
    case 1002:
      return "protocol-error";
    case 1008:
      // auth refused, invalid connect, pairing required, origin/role refusals
      return "policy";
    case 1009:
      return "too-big";
    case 1012:
      return "service-restart";
    case 1013:
      return "evicted";
    default:
      return code >= 4000 && code < 5000 ? "auth" : `code-${code}`;
  }
}
