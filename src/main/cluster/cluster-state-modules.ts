/**
 * The modules that share durable state across the cluster's gateways (docs/cluster.md):
 * pairing, idempotency keys and channel account leases. Loaded by gateway.ts with the
 * cluster module, only when `gateway.cluster` is enabled.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { clusterDedupeModule } from "./cluster-dedupe-module.js";
import { clusterPairingModule } from "./cluster-pairing-module.js";

/** Every shared-state module, each depending on `cluster`. */
export function clusterStateModules(): GatewayModuleDef[] {
  return [clusterPairingModule(), clusterDedupeModule()];
}
