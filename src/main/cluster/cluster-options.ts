/** Resolves `gateway.cluster` (schema: src/shared/config/schema/gateway-cluster.ts) into `ClusterOptions`. */
import os from "node:os";
import { resolve } from "node:path";
import type { GatewayClusterConfig } from "../../shared/config/schema/gateway-cluster.js";

/** What the cluster module runs with; absent when `gateway.cluster.enabled` is not true. */
export interface ClusterOptions {
  /** Prefix of every subject and bucket. Default "clawgate". */
  name: string;
  /** This gateway's id; unique in the cluster. Default `<hostname>-<port>` (sanitised). */
  gatewayId: string;
  /** Heartbeat of this gateway's directory and presence entries (ms). Default 2000. */
  heartbeatMs: number;
  /** Lease time of a channel account owner (ms). Default 10000. */
  channelLeaseMs: number;
  /** Cross-gateway request timeout before UNAVAILABLE (ms). Default 5000. */
  requestTimeoutMs: number;
  nats: ClusterNatsOptions;
}

/** Broker connection settings. */
export interface ClusterNatsOptions {
  /** Default `["nats://127.0.0.1:4222"]`. */
  servers: string[];
  token?: string;
  user?: string;
  password?: string;
  /** Absolute path of a `.creds` file. */
  creds?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

function sanitizeId(raw: string): string {
  const id = raw.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return id.length > 0 ? id : "gateway";
}

/** `undefined` unless the cluster is enabled. `port` is the gateway port (default id). */
export function resolveClusterOptions(c: GatewayClusterConfig | undefined, port: number): ClusterOptions | undefined {
  if (c?.enabled !== true) return undefined;
  const n = c.nats ?? {};
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));
  return {
    name: c.name ?? "clawgate",
    gatewayId: c.gatewayId ?? sanitizeId(`${os.hostname()}-${port}`),
    heartbeatMs: c.heartbeatMs ?? 2000,
    channelLeaseMs: c.channelLeaseMs ?? 10_000,
    requestTimeoutMs: c.requestTimeoutMs ?? 5000,
    nats: {
      servers: n.servers && n.servers.length > 0 ? [...n.servers] : ["nats://127.0.0.1:4222"],
      token: n.token,
      user: n.user,
      password: n.password,
      creds: abs(n.creds),
      tls: n.tls ? { caFile: abs(n.tls.caFile), certFile: abs(n.tls.certFile), keyFile: abs(n.tls.keyFile) } : undefined,
    },
  };
}
