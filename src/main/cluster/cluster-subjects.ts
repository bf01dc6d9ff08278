/**
 * Names of every NATS subject and JetStream KV bucket the cluster uses, in one place
 * (docs/cluster.md lists them). All are prefixed by the cluster name so several clusters
 * can share one broker.
 */

/** Subjects and buckets of one cluster. */
export interface ClusterNames {
  /** Request/reply inbox of one gateway (cross-gateway RPC: node.invoke forwarding, …). */
  gatewayRpc(gatewayId: string): string;
  /** Presence changes published by each gateway. */
  presence: string;
  /** Operator-audience events (`<prefix>.events.<event>`); subscribe with `events.>`. */
  events: string;
  /** Gateway membership heartbeats. */
  members: string;
  /** KV buckets. */
  buckets: {
    /** node id → owning gateway id (TTL = 3 heartbeats). */
    nodes: string;
    /** device/node pairing records (source of truth). */
    pairing: string;
    /** idempotency keys of agent/chat.send/send/node.invoke (TTL). */
    dedupe: string;
    /** channel account → owning gateway lease. */
    leases: string;
    /** gateway id → membership record (TTL = 3 heartbeats). */
    members: string;
  };
}

export function clusterNames(name: string): ClusterNames {
  const p = `clawgate.${name}`;
  const b = `clawgate_${name}`;
  return {
    gatewayRpc: (id) => `${p}.gw.${id}.rpc`,
    presence: `${p}.presence`,
    events: `${p}.events`,
    members: `${p}.members`,
    buckets: { nodes: `${b}_nodes`, pairing: `${b}_pairing`, dedupe: `${b}_dedupe`, leases: `${b}_leases`, members: `${b}_members` },
  };
}
