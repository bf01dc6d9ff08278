/**
 * The cluster lines of `clawdbot health` and `clawdbot gateway status`, from the health
 * snapshot's `cluster` (broker connection) and `clusterPresence` (the gateways this one
 * hears) sections; nothing when the gateway runs without `gateway.cluster`:
 *
 *   Cluster:  prod as gw-a, broker connected to nats://10.0.0.5:4222 (rtt 0.4 ms, 1 reconnect)
 *   Members:  gw-a (this gateway), gw-b (12 presence entries), gw-c (3 presence entries)
 *   Nodes:    gw-a 2 (this gateway), gw-b 10, gw-c 0
 *
 * `Nodes:` comes from `cluster.members` (the membership records: live gateways and the
 * nodes connected to each), when the gateway has the cluster-members module.
 */

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** The health snapshot's cluster sections, as received. */
export interface ClusterSections {
  cluster: Obj;
  clusterPresence?: Obj;
}

/** The cluster sections of a health payload, or undefined without a cluster. */
export function clusterSections(health: unknown): ClusterSections | undefined {
  const h = obj(health);
  const cluster = obj(h?.cluster);
  if (!cluster) return undefined;
  const presence = obj(h?.clusterPresence);
  return presence ? { cluster, clusterPresence: presence } : { cluster };
}

function brokerText(b: Obj | undefined): string {
  if (!b) return "broker unknown";
  const reconnects = typeof b.reconnects === "number" ? b.reconnects : 0;
  const rtt = typeof b.rttMs === "number" ? `rtt ${b.rttMs} ms, ` : "";
  const tail = `(${rtt}${reconnects} reconnect${reconnects === 1 ? "" : "s"})`;
  if (b.connected === true) return `broker connected to ${typeof b.server === "string" ? b.server : "unknown server"} ${tail}`;
  const since = typeof b.lastDisconnectAt === "number" ? ` since ${new Date(b.lastDisconnectAt).toISOString()}` : "";
  const err = typeof b.lastError === "string" && b.lastError !== "" ? `, last error: ${b.lastError}` : "";
  return `broker DISCONNECTED${since}${err} ${tail}`;
}

/** `Cluster:` and `Members:` lines (empty without a cluster section). */
export function formatClusterLines(sections: ClusterSections | undefined): string[] {
  if (!sections) return [];
  const c = sections.cluster;
  const self = typeof c.gatewayId === "string" ? c.gatewayId : "unknown";
  const lines = [`Cluster:  ${typeof c.name === "string" ? c.name : "unknown"} as ${self}, ${brokerText(obj(c.broker))}`];
  const peers = sections.clusterPresence?.peers;
  if (Array.isArray(peers)) {
    const members = [`${self} (this gateway)`];
    for (const p of peers) {
      const peer = obj(p);
      if (typeof peer?.gatewayId !== "string") continue;
      const n = typeof peer.entries === "number" ? peer.entries : 0;
      members.push(`${peer.gatewayId} (${n} presence entr${n === 1 ? "y" : "ies"})`);
    }
    lines.push(`Members:  ${members.join(", ")}`);
  }
  const nodes = nodesLine(c.members, self);
  if (nodes) lines.push(nodes);
  return lines;
}

/** `Nodes:` per live member, this gateway first; undefined without membership records. */
function nodesLine(members: unknown, self: string): string | undefined {
  if (!Array.isArray(members)) return undefined;
  const parts: string[] = [];
  for (const m of members) {
    const rec = obj(m);
    if (typeof rec?.id !== "string") continue;
    const n = typeof rec.nodes === "number" ? rec.nodes : 0;
    parts.push(rec.id === self ? `${rec.id} ${n} (this gateway)` : `${rec.id} ${n}`);
  }
  return parts.length > 0 ? `Nodes:    ${parts.join(", ")}` : undefined;
}
