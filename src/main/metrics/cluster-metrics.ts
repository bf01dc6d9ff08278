/**
 * Counters of the cluster (gateway.cluster): bumped where each message is published or
 * received and where a remote event is fanned out; the broker figures (connected,
 * reconnects, rtt) are read at scrape time from the connection's status, where the
 * connection counts them. Plain numbers like gateway-metrics.ts: no NATS import, nothing
 * allocated per message. `/metrics` shows the `clawgate_cluster_*` families only while a
 * broker source is attached (the cluster module attaches its connection), so a single
 * gateway's exposition is unchanged.
 */

/** Broker figures read at scrape time. */
export interface BrokerMetricsSource {
  connected: boolean;
  reconnects: number;
  rttMs: number | null;
}

/** Cluster message kinds (label `kind`): one per subsystem that talks on the broker. */
export type ClusterMessageKind = "presence" | "events";

export class ClusterMetrics {
  /** The connection's status, or null when the cluster is not enabled. */
  broker: (() => BrokerMetricsSource) | null = null;
  readonly messagesIn = new Map<string, number>();
  readonly messagesOut = new Map<string, number>();
  /** Events received from another gateway and broadcast to this gateway's sockets. */
  remoteEventFanouts = 0;
  /** Local events that could not be published (broker down); not replayed, like any event. */
  eventsUnpublished = 0;

  /** A message of `kind` was received from the broker. */
  messageIn(kind: ClusterMessageKind | string): void {
    this.messagesIn.set(kind, (this.messagesIn.get(kind) ?? 0) + 1);
  }

  /** A message of `kind` was published to the broker. */
  messageOut(kind: ClusterMessageKind | string): void {
    this.messagesOut.set(kind, (this.messagesOut.get(kind) ?? 0) + 1);
  }
}

/** The process-wide cluster counters. */
export const clusterMetrics = new ClusterMetrics();
