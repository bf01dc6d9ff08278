/**
 * The `cluster-dedupe` module: idempotency keys of `agent` / `chat.send` / `node.invoke` and finished runs of
 * `agent.wait` (and channel `send` keys, channel-leases.ts), shared through the dedupe KV
 * bucket (TTL = the local dedupe lifetime, 5 min).
 *
 *   idem.<b64url "agent:<key>">  {state:"running", owner, ack} → {state:"done", owner, final}
 *   run.<b64url runId>           the run's `agent.wait` result
 *
 * A claim is KV `create` (first writer wins): the gateway that wins runs the request, every
 * other answers from the record — the final once recorded, else the in-flight answer — and
 * never runs it. While the broker is down the claim is skipped and requests run under the
 * local dedupe only (local work goes on; a retry on another gateway during the outage may
 * run again); a broker that is connected but does not answer in `requestTimeoutMs` makes
 * the request fail UNAVAILABLE (retryable). The owner records the final with a
 * plain put (only it writes the key after the claim). Known limit: a claim whose owner died
 * mid-run answers "in flight" until the bucket TTL drops it.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import { GatewayError } from "../../shared/errors.js";
import { AGENTS_MODULE } from "../agents/agents-module.js";
import type { DedupeEntry } from "../agents/agent-methods.js";
import type { AgentRuntime } from "../agents/agent-runtime.js";
import type { WaitResult } from "../agents/run-waits.js";
import type { ClaimResult, SharedIdempotency } from "../agents/shared-idempotency.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { NODES_MODULE } from "../nodes/nodes-module.js";
import type { NodeService } from "../nodes/node-service.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { clusterUnavailable, isWrongRevision, recordKey, withTimeout } from "./kv-helpers.js";

export const CLUSTER_DEDUPE_MODULE = "cluster-dedupe";

/** Lifetime of a shared idempotency key: the local dedupe cache's (agents-module.ts). */
export const SHARED_DEDUPE_TTL_MS = 5 * 60_000;

/** What a claimed key holds. */
interface ClaimRecord {
  state: "running" | "done";
  owner: string;
  ack?: DedupeEntry;
  final?: DedupeEntry;
}

const encoder = new TextEncoder();
const json = (v: unknown): Uint8Array => encoder.encode(JSON.stringify(v));

function parse<T>(e: KvEntry | null): T | undefined {
  if (e === null || e.operation !== "PUT") return undefined;
  try {
    return e.json<T>();
  } catch {
    return undefined;
  }
}

/** `SharedIdempotency` on a KV bucket. */
class KvIdempotency implements SharedIdempotency {
  kv: KV | null = null;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly log: Logger,
  ) {}

  #bucket(what: string): KV {
    if (this.kv === null || !this.cluster.connection.available()) throw clusterUnavailable(what);
    return this.kv;
  }

  async claim(key: string, ack: DedupeEntry | undefined): Promise<ClaimResult> {
    const what = `idempotency key ${key}`;
    if (this.kv === null || !this.cluster.connection.available()) {
      // Broker down: local work goes on under the local dedupe only (a retry on another
      // gateway during the outage may run again; see docs/cluster.md).
      this.log.warn({ key }, "cluster: broker unavailable; idempotency key not shared, running under the local dedupe only");
      return { won: true };
    }
    const kv = this.#bucket(what);
    const k = recordKey("idem", key);
    const mine: ClaimRecord = { state: "running", owner: this.cluster.options.gatewayId, ...(ack !== undefined ? { ack } : {}) };
    const ms = this.cluster.options.requestTimeoutMs;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await withTimeout(kv.create(k, json(mine)), ms, what);
        return { won: true };
      } catch (err) {
        if (!isWrongRevision(err)) throw err instanceof GatewayError ? err : clusterUnavailable(what, err);
      }
      const theirs = parse<ClaimRecord>(await withTimeout(kv.get(k), ms, what));
      // Gone between the two calls (released or expired): claim again.
      if (theirs !== undefined) return { won: false, final: theirs.final, ack: theirs.ack, owner: theirs.owner };
    }
    throw clusterUnavailable(what);
  }

  async awaitFinal(key: string, timeoutMs: number): Promise<DedupeEntry | null | undefined> {
    const kv = this.kv;
    if (kv === null || !this.cluster.connection.available()) return undefined;
    const iter = await kv.watch({ key: recordKey("idem", key) });
    const timer = setTimeout(() => iter.stop(), timeoutMs);
    try {
      for await (const e of iter) {
        if (e.operation !== "PUT") return null;
        const rec = parse<ClaimRecord>(e);
        if (rec?.final !== undefined) return rec.final;
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      iter.stop();
    }
  }

  ready(): boolean {
    return this.kv !== null && this.cluster.connection.available();
  }

  settle(key: string, final: DedupeEntry): void {
    const rec: ClaimRecord = { state: "done", owner: this.cluster.options.gatewayId, final };
    this.#bestEffort(`idempotency key ${key}`, (kv) => kv.put(recordKey("idem", key), json(rec)));
  }

  release(key: string): void {
    this.#bestEffort(`idempotency key ${key}`, (kv) => kv.delete(recordKey("idem", key)));
  }

  finished(result: WaitResult): void {
    this.#bestEffort(`run ${result.runId}`, (kv) => kv.put(recordKey("run", result.runId), json(result)));
  }

  async waitFinished(runId: string, timeoutMs: number, signal: AbortSignal): Promise<WaitResult | undefined> {
    const kv = this.kv;
    if (kv === null || !this.cluster.connection.available() || signal.aborted) return undefined;
    const k = recordKey("run", runId);
    if (timeoutMs <= 0) return parse<WaitResult>(await kv.get(k));
    // A watch of the one key delivers its current value first, so nothing is missed between a get and the watch.
    const iter = await kv.watch({ key: k });
    const stop = (): void => iter.stop();
    const timer = setTimeout(stop, timeoutMs);
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const e of iter) {
        const r = parse<WaitResult>(e);
        if (r !== undefined) return r;
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
      iter.stop();
    }
  }

  #bestEffort(what: string, op: (kv: KV) => Promise<unknown>): void {
    const kv = this.kv;
    if (kv === null || !this.cluster.connection.available()) {
      this.log.debug({ what }, "cluster: broker unavailable; shared idempotency record not written");
      return;
    }
    op(kv).catch((err: unknown) => this.log.warn({ what, err: String(err) }, "cluster: shared idempotency record not written"));
  }
}

export function clusterDedupeModule(): GatewayModuleDef {
  return {
    name: CLUSTER_DEDUPE_MODULE,
    dependsOn: [CLUSTER_MODULE, NODES_MODULE, AGENTS_MODULE],
    register(r) {
      const cluster = r.api<ClusterApi>(CLUSTER_MODULE);
      const runtime = r.api<AgentRuntime>(AGENTS_MODULE);
      const nodes = r.api<NodeService>(NODES_MODULE);
      if (cluster === undefined || runtime === undefined || nodes === undefined) throw new Error("cluster-dedupe needs the cluster, nodes and agents modules");
      const shared = new KvIdempotency(cluster, r.core.log);
      runtime.shared.current = shared;
      nodes.shared.current = shared;
      cluster.addHealthField("dedupe", () => ({ bucket: cluster.names.buckets.dedupe, synced: shared.kv !== null }));
      return {
        api: shared,
        start: () =>
          cluster.connection.onConnected(async (h) => {
            shared.kv = await h.kvm.create(cluster.names.buckets.dedupe, { history: 1, ttl: SHARED_DEDUPE_TTL_MS });
          }),
        stop: () => {
          runtime.shared.current = undefined;
          nodes.shared.current = undefined;
        },
      };
    },
  };
}
