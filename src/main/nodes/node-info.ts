/**
 * `NodeInfo` for `node.list` and `node.describe` (§3.11): the union of devices paired
 * with role `node` (device pairing store) and live node sessions; live values win. In a
 * cluster, nodes connected to other gateways count as live too (their gateway's record
 * in the node directory); a local session wins over a remote one.
 */
import { GatewayError } from "../../shared/errors.js";
import type { DevicePairingStore } from "../../shared/store/device-pairing-store.js";
import type { PairedDevice } from "../../shared/store/device-pairing-types.js";
import type { NodeDeclaration, NodeDescriptor } from "../../shared/store/node-pairing-types.js";
import type { NodeRegistry } from "./node-registry.js";
import type { RemoteNodeRouter } from "./remote-node-router.js";
import { uniqueSorted, type LiveNodeInfo } from "./node-session.js";

/** Appendix A `NodeInfo` (undefined fields are omitted on the wire). */
export interface NodeInfo extends NodeDescriptor, NodeDeclaration {
  nodeId: string;
  caps: string[];
  commands: string[];
  connectedAtMs?: number;
  paired: boolean;
  connected: boolean;
}

/** A device paired with role `node` (in `role` or `roles`). */
export function isNodeDevice(d: Pick<PairedDevice, "role" | "roles">): boolean {
  return d.role === "node" || (Array.isArray(d.roles) && d.roles.includes("node"));
}

function merge(nodeId: string, paired: Readonly<PairedDevice> | undefined, live: LiveNodeInfo | undefined): NodeInfo {
  return {
    nodeId,
    displayName: live?.displayName ?? paired?.displayName,
    platform: live?.platform ?? paired?.platform,
    version: live?.version,
    coreVersion: undefined,
    uiVersion: undefined,
    deviceFamily: live?.deviceFamily,
    modelIdentifier: live?.modelIdentifier,
    remoteIp: live?.remoteIp ?? paired?.remoteIp,
    caps: live ? live.caps : [],
    commands: live ? live.commands : [],
    pathEnv: live?.pathEnv,
    permissions: live?.permissions,
    connectedAtMs: live?.connectedAtMs,
    paired: paired !== undefined,
    connected: live !== undefined,
  };
}

/** Connected first, then display name (or id) case-insensitively, then id. */
export function compareNodes(a: NodeInfo, b: NodeInfo): number {
  if (a.connected !== b.connected) return a.connected ? -1 : 1;
  const an = (a.displayName ?? a.nodeId).toLowerCase();
  const bn = (b.displayName ?? b.nodeId).toLowerCase();
  if (an < bn) return -1;
  if (an > bn) return 1;
  return a.nodeId.localeCompare(b.nodeId);
}

/** `node.list` nodes, sorted. `remote`: nodes of other cluster gateways (null on a single gateway). */
export function listNodes(registry: NodeRegistry, devices: DevicePairingStore, remote: RemoteNodeRouter | null = null): NodeInfo[] {
  const paired = new Map<string, Readonly<PairedDevice>>();
  devices.forEachPaired((d) => {
    if (isNodeDevice(d)) paired.set(d.deviceId, d);
  });
  const out: NodeInfo[] = [];
  const seen = new Set<string>();
  for (const s of registry.sessions()) {
    out.push(merge(s.nodeId, paired.get(s.nodeId), s.info()));
    seen.add(s.nodeId);
  }
  if (remote) {
    for (const n of remote.nodes()) {
      if (seen.has(n.nodeId)) continue;
      seen.add(n.nodeId);
      const info = merge(n.nodeId, paired.get(n.nodeId), n.info);
      if (n.paired) info.paired = true;
      out.push(info);
    }
  }
  for (const [id, d] of paired) if (!seen.has(id)) out.push(merge(id, d, undefined));
  return out.sort(compareNodes);
}

/** `node.describe` (without `ts`); throws `unknown nodeId` when neither paired as a node nor connected. */
export function describeNode(registry: NodeRegistry, devices: DevicePairingStore, rawId: string, remote: RemoteNodeRouter | null = null): NodeInfo {
  const nodeId = rawId.trim();
  if (!nodeId) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", "nodeId required");
  const device = devices.getPaired(nodeId);
  const paired = device && isNodeDevice(device) ? device : undefined;
  const local = registry.get(nodeId);
  const elsewhere = local ? undefined : remote?.lookup(nodeId);
  const live = local?.info() ?? elsewhere?.info;
  if (!paired && !live) throw new GatewayError("GW_ERR_NODE_UNKNOWN", "unknown nodeId", { nodeId });
  const info = merge(nodeId, paired, live);
  if (elsewhere?.paired) info.paired = true;
  info.caps = uniqueSorted(info.caps);
  return info;
}
