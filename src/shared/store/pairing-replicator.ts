/**
 * The injection point through which a pairing store shares its records with other gateways
 * (the cluster's JetStream KV bucket, src/main/cluster/pairing-sync.ts). Without one a store
 * is exactly the single-gateway store: memory plus its files.
 *
 * With one, the shared copy is the source of truth and the local store is its cache:
 * - every real mutation of a paired record or pending request is handed to the replicator,
 *   which answers with a promise settled once the shared store acknowledged it; the store's
 *   `durableBarrier(id)` and `flush()` wait for it as they wait for the disk (persist before
 *   acknowledging, now on every gateway);
 * - "lazy" changes (metadata refreshed by a reconnect) are offered best-effort and never
 *   delay an answer, so an already-paired device still connects while the broker is down;
 * - what other gateways wrote arrives through `applyRemote*`, which updates memory and the
 *   local files (a restart without the broker starts from the last state seen) without
 *   handing the change back to the replicator.
 */

/** How a change is offered: "ack" changes are awaited before answering, "lazy" ones are not. */
export type ReplicationMode = "ack" | "lazy";

/** Receives the mutations of one pairing store. `P`: paired record, `Q`: pending request. */
export interface PairingReplicator<P, Q> {
  /** Paired record `id` changed (`undefined`: removed). Undefined when nothing is to be awaited. */
  paired(id: string, record: P | undefined, mode: ReplicationMode): Promise<void> | undefined;
  /** Pending request `requestId` was created (`request`) or resolved/expired (`undefined`). Default mode "ack". */
  pending(requestId: string, request: Q | undefined, mode?: ReplicationMode): Promise<void> | undefined;
}

/**
 * Outstanding replication promises per record id (device or node id): what `durableBarrier`
 * and `flush` wait for besides the disk. A settled promise is forgotten; a rejected one
 * rejects the barrier of that id once (the caller refuses its answer; the replicator has
 * already put the record back to the last shared state).
 */
export class ReplicationTracker {
  readonly #inFlight = new Map<string, Promise<void>>();

  /** Records `p` as the latest replication of `id` (chained after an earlier one still running). */
  track(id: string, p: Promise<void> | undefined): void {
    if (p === undefined) return;
    // Whoever awaits the barrier sees the rejection; this one only keeps it from counting as unhandled.
    p.catch(() => undefined);
    const prev = this.#inFlight.get(id);
    const chained = prev === undefined ? p : Promise.allSettled([prev]).then(() => p);
    this.#inFlight.set(id, chained);
    const forget = (): void => {
      if (this.#inFlight.get(id) === chained) this.#inFlight.delete(id);
    };
    chained.then(forget, forget);
  }

  /** The replication still running for `id`, if any. */
  barrier(id: string): Promise<void> | undefined {
    return this.#inFlight.get(id);
  }

  /** Every replication running now. */
  all(): Promise<void> {
    return Promise.all([...this.#inFlight.values()]).then(() => undefined);
  }
}

/** Waits for both barriers (either may be absent). */
export function bothBarriers(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Promise.all([a, b]).then(() => undefined);
}
