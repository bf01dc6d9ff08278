/**
 * The `cluster-pairing` module: device and node pairing shared by every gateway of the
 * cluster through the pairing KV bucket (kv-records.ts). The bucket is the source of truth;
 * each gateway's pairing stores are its cache, fed by a watch, so a device paired, a token
 * rotated or revoked on one gateway is accepted (or refused) by the others as soon as the
 * watch delivers it (milliseconds; docs/cluster.md). A gateway acknowledges a pairing change
 * (`hello-ok` with a new deviceToken, `device.*`, `node.pair.*`) only once the bucket holds
 * it; while the broker is down those answer UNAVAILABLE (retryable) and devices already
 * paired keep connecting from the cache.
 *
 * Sessions admitted by a device token that another gateway rotated or revoked are closed
 * here (4001), as the gateway that made the change closes its own.
 */
import { sanitizePairedDevice, sanitizePendingRequest } from "../../shared/store/device-pairing-files.js";
import type { PairedDevice, PendingDeviceRequest } from "../../shared/store/device-pairing-types.js";
import { sanitizePairedNode, sanitizePendingNodeRequest } from "../../shared/store/node-pairing-files.js";
import type { NodePairingStore } from "../../shared/store/node-pairing-store.js";
import type { PairedNode, PendingNodeRequest } from "../../shared/store/node-pairing-types.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { GatewayContext } from "../gateway-context.js";
import { closeDeviceTokenSessions } from "../handshake/session-auth.js";
import { NODES_MODULE } from "../nodes/nodes-module.js";
import type { NodeService } from "../nodes/node-service.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { KvRecords, type RecordKind } from "./kv-records.js";
import { mergePairedDevice, mergePairedNode } from "./pairing-merge.js";

export const CLUSTER_PAIRING_MODULE = "cluster-pairing";

/** What the module exposes (tests, health). */
export interface ClusterPairingApi {
  readonly records: KvRecords;
}

/** Sessions admitted by a token that the new shared record no longer carries (rotated) or revoked. */
function closeReplacedTokenSessions(ctx: GatewayContext, deviceId: string, before: PairedDevice | undefined, after: PairedDevice | undefined): void {
  for (const [role, old] of Object.entries(before?.tokens ?? {})) {
    if (old.revokedAtMs !== undefined) continue;
    const now = after?.tokens?.[role];
    if (now === undefined || now.revokedAtMs !== undefined) closeDeviceTokenSessions(ctx, deviceId, role, "device token revoked");
    else if (now.token !== old.token) closeDeviceTokenSessions(ctx, deviceId, role, "device token rotated");
  }
}

function deviceKinds(ctx: GatewayContext): { paired: RecordKind<PairedDevice>; pending: RecordKind<PendingDeviceRequest> } {
  const devices = ctx.devices;
  return {
    paired: {
      prefix: "device",
      sanitize: sanitizePairedDevice,
      local: (id) => devices.getPaired(id),
      apply: (id, value, before) => {
        devices.applyRemotePaired(id, value);
        closeReplacedTokenSessions(ctx, id, before, value);
      },
      seed: () => devices.listPaired().map((d): [string, PairedDevice] => [d.deviceId, d]),
      merge: mergePairedDevice,
    },
    pending: {
      prefix: "devreq",
      sanitize: sanitizePendingRequest,
      local: (id) => devices.listPending().find((r) => r.requestId === id),
      apply: (id, value) => devices.applyRemotePending(id, value),
    },
  };
}

function nodeKinds(store: NodePairingStore): { paired: RecordKind<PairedNode>; pending: RecordKind<PendingNodeRequest> } {
  return {
    paired: {
      prefix: "node",
      sanitize: sanitizePairedNode,
      local: (id) => store.getPaired(id),
      apply: (id, value) => store.applyRemotePaired(id, value),
      seed: () => store.listPaired().map((n): [string, PairedNode] => [n.nodeId, n]),
      merge: mergePairedNode,
    },
    pending: {
      prefix: "nodereq",
      sanitize: sanitizePendingNodeRequest,
      local: (id) => store.listPending().find((r) => r.requestId === id),
      apply: (id, value) => store.applyRemotePending(id, value),
    },
  };
}

export function clusterPairingModule(): GatewayModuleDef {
  return {
    name: CLUSTER_PAIRING_MODULE,
    dependsOn: [CLUSTER_MODULE, NODES_MODULE],
    register(r) {
      const cluster = r.api<ClusterApi>(CLUSTER_MODULE);
      const nodes = r.api<NodeService>(NODES_MODULE);
      if (cluster === undefined || nodes === undefined) throw new Error("cluster-pairing needs the cluster and nodes modules");
      const records = new KvRecords(
        cluster.connection,
        { bucket: cluster.names.buckets.pairing, writeTimeoutMs: cluster.options.requestTimeoutMs },
        r.core.log,
      );
      const dev = deviceKinds(r.core);
      const node = nodeKinds(nodes.pairing);
      for (const k of [dev.paired, dev.pending, node.paired, node.pending] as RecordKind<unknown>[]) records.register(k);
      r.core.devices.setReplicator({
        paired: (id, record, mode) => records.write(dev.paired, id, record, mode),
        pending: (id, request, mode = "ack") => records.write(dev.pending, id, request, mode),
      });
      nodes.pairing.setReplicator({
        paired: (id, record, mode) => records.write(node.paired, id, record, mode),
        pending: (id, request, mode = "ack") => records.write(node.pending, id, request, mode),
      });
      cluster.addHealthField("pairing", () => ({ bucket: cluster.names.buckets.pairing, synced: records.synced }));
      const api: ClusterPairingApi = { records };
      return {
        api,
        start: () => records.start(),
        stop: () => records.close(),
      };
    },
  };
}
