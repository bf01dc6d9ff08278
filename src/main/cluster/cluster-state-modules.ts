/**
 * The modules that share durable state across the cluster's gateways (docs/cluster.md):
 * pairing, idempotency keys and channel account leases. Loaded by gateway.ts with the
 * cluster module, only when `gateway.cluster` is enabled.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { clusterDedupeModule } from "./cluster-dedupe-module.js";
import { clusterLeasesModule } from "./cluster-leases-module.js";
import { clusterPairingModule } from "./cluster-pairing-module.js";

/** What the gateway runs besides the built-in modules. */
export interface ClusterStateScope {
  /** The channels module is loaded (its accounts then run under leases). */
  channels: boolean;
}

/** Every shared-state module, each depending on `cluster`. */
export function clusterStateModules(scope: ClusterStateScope): GatewayModuleDef[] {
  return [clusterPairingModule(), clusterDedupeModule(), ...(scope.channels ? [clusterLeasesModule()] : [])];
}
