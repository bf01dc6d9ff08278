/**
 * The `cluster-leases` module: channel accounts run under leases shared by the cluster's
 * gateways (channel-leases.ts), so one gateway runs each account and the others forward
 * `send` to it. Loaded only when the gateway runs channels.
 */
import type { GatewayModuleDef } from "../gateway-module.js";
import { CHANNELS_MODULE } from "../channels/channels-loader.js";
import type { ChannelsApi } from "../channels/channels-module.js";
import { AGENTS_MODULE } from "../agents/agents-module.js";
import type { AgentRuntime } from "../agents/agent-runtime.js";
import { CLUSTER_MODULE, type ClusterApi } from "./cluster-module.js";
import { ChannelLeases } from "./channel-leases.js";
import { CLUSTER_RPC_MODULE } from "./cluster-rpc-module.js";
import type { GatewayRpc } from "./gateway-rpc.js";

export const CLUSTER_LEASES_MODULE = "cluster-leases";

export function clusterLeasesModule(): GatewayModuleDef {
  return {
    name: CLUSTER_LEASES_MODULE,
    dependsOn: [CLUSTER_MODULE, CLUSTER_RPC_MODULE, AGENTS_MODULE, CHANNELS_MODULE],
    register(r) {
      const cluster = r.api<ClusterApi>(CLUSTER_MODULE);
      const channels = r.api<ChannelsApi>(CHANNELS_MODULE);
      const rpc = r.api<GatewayRpc>(CLUSTER_RPC_MODULE);
      if (cluster === undefined || channels === undefined || rpc === undefined) throw new Error("cluster-leases needs the cluster, cluster-rpc and channels modules");
      const shared = r.api<AgentRuntime>(AGENTS_MODULE)?.shared;
      const leases = new ChannelLeases({ cluster, rpc, log: r.core.log, dedupe: () => shared?.current });
      channels.setOwnership(leases);
      cluster.addHealthField("leases", () => ({ bucket: cluster.names.buckets.leases, synced: leases.ready, leaseMs: cluster.options.channelLeaseMs, held: leases.held(), ...leases.counters }));
      return { api: leases, start: () => leases.start(), stop: () => leases.close() };
    },
  };
}
