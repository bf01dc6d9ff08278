/**
 * `gateway.cluster`: several gateways as one on NATS JetStream (docs/cluster.md).
 * Absent or `enabled: false` → a single gateway with no broker, exactly as before.
 */
import Type from "typebox";
import type { Static } from "typebox";
import { Bool, closed, PosInt, Str, StrList } from "./common.js";

const ClusterTlsSchema = Type.Object(
  {
    /** PEM CA bundle that signs the NATS servers' certificates. */
    caFile: Type.Optional(Str),
    /** Client certificate (PEM) for mutual TLS. */
    certFile: Type.Optional(Str),
    /** Client key (PEM) for mutual TLS. */
    keyFile: Type.Optional(Str),
  },
  closed,
);

const ClusterNatsSchema = Type.Object(
  {
    /** NATS URLs, e.g. `["nats://10.0.0.5:4222"]`. Default `["nats://127.0.0.1:4222"]`. */
    servers: Type.Optional(StrList),
    /** Token auth (exclusive with user/password and creds). */
    token: Type.Optional(Str),
    user: Type.Optional(Str),
    password: Type.Optional(Str),
    /** Path of a `.creds` file (JWT + nkey seed). */
    creds: Type.Optional(Str),
    tls: Type.Optional(ClusterTlsSchema),
  },
  closed,
);

export const GatewayClusterSchema = Type.Object(
  {
    /** Join the cluster. Default false. */
    enabled: Type.Optional(Bool),
    /** Cluster name: prefixes every subject and bucket, so clusters can share a broker. Default "clawgate". */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: "^[A-Za-z0-9_-]+$" })),
    /** This gateway's id in the cluster. Default: host name + port. */
    gatewayId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" })),
    /** Heartbeat of this gateway's node-directory and presence entries (ms). Default 2000. */
    heartbeatMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
    /** Lease of a channel account's owner (ms). Default 10000. */
    channelLeaseMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600000 })),
    /** Time a cross-gateway request waits for the broker before UNAVAILABLE (ms). Default 5000. */
    requestTimeoutMs: Type.Optional(PosInt),
    nats: Type.Optional(ClusterNatsSchema),
  },
  closed,
);

/** `gateway.cluster` as written. */
export type GatewayClusterConfig = Static<typeof GatewayClusterSchema>;
