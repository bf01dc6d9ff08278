/**
 * Record shapes of the legacy node pairing store, `<stateDir>/nodes/{pending,paired}.json`
 * (protocol reference §3.11 `node.pair.*`). This store is a token registry driven only by
 * `node.pair.*` RPCs; it never gates a WebSocket handshake (device pairing does).
 */
import type { ConnectParams, NodePairRequestParams } from "../protocol/generated/types.js";

/**
 * How a node describes itself — name, platform, versions, hardware, address — exactly as
 * the `node.pair.request` params schema types it (generated from the protocol schemas).
 */
export type NodeDescriptor = Omit<NodePairRequestParams, "nodeId" | "silent" | "caps" | "commands">;

/** What a node declares at connect besides its client info (the `connect` params schema). */
export type NodeDeclaration = Pick<ConnectParams, "permissions" | "pathEnv">;

/** Metadata a node pairing request may carry (`node.pair.request` params minus `nodeId`/`silent`). */
export interface NodeMetadata
  extends NodeDescriptor,
    Pick<NodePairRequestParams, "caps" | "commands">,
    Pick<NodeDeclaration, "permissions"> {}

/** `pending.json[requestId]`; also the `node.pair.requested` event payload. */
export interface PendingNodeRequest extends NodeMetadata {
  requestId: string;
  nodeId: string;
  silent?: boolean;
  /** The node was already paired when the request was made. */
  isRepair: boolean;
  ts: number;
}

/** `paired.json[nodeId]`. Tokens are returned by `node.pair.list`/`approve` as is. */
export interface PairedNode extends NodeMetadata {
  nodeId: string;
  /** 32 lowercase hex chars. */
  token: string;
  bins?: string[];
  createdAtMs: number;
  approvedAtMs: number;
  lastConnectedAtMs?: number;
}

/** `node.pair.request` input. */
export interface NodePairingRequestInput extends NodeMetadata, Pick<NodePairRequestParams, "nodeId" | "silent"> {}

/** Pending node pairing requests expire after 5 minutes (Appendix C). */
export const NODE_PAIRING_PENDING_TTL_MS = 300_000;

/**
 * How long a metadata-only change (`lastConnectedAtMs`) may sit in memory before it is
 * written: a reconnect storm of paired nodes then costs one write, not one per node.
 * Losing it to a crash loses a timestamp, never a pairing.
 */
export const NODE_PAIRING_LAZY_PERSIST_MS = 5_000;

/** Options of `NodePairingStore.open`. */
export interface NodePairingStoreOptions {
  /** State dir; files live in `<stateDir>/nodes/`. */
  stateDir: string;
  /** Operator-facing problems: quarantined or malformed files, failed background writes. Default: none. */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Pending request lifetime. Default `300000` (5 min). */
  pendingTtlMs?: number;
  /** Delay before metadata-only changes are written. Default `5000`. */
  lazyPersistMs?: number;
  /** How often expired pending requests are pruned in the background (unref'd timer). Default `60000`. */
  pruneIntervalMs?: number;
}
