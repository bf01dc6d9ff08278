/**
 * One connected node: a thin view over its Connection.
 *
 * Everything the node declared at connect (client info, caps, permissions, pathEnv)
 * is read from `conn.params` on demand instead of being copied: at 15k nodes the
 * session costs a handful of pointers. The filtered command list is interned (see
 * `filterDeclaredCommands`), and the two per-node sets are allocated only while the
 * node has pending invokes or chat subscriptions.
 */
import type { ConnectParams } from "../../shared/protocol/generated/types.js";
import type { Connection } from "../socket/connection.js";
import type { NodePlatformId } from "./node-command-policy.js";
import type { NodeDeclaration, NodeDescriptor } from "../../shared/store/node-pairing-types.js";

/** Fields of `NodeInfo` (§3.11) that come from the live session. */
export interface LiveNodeInfo
  extends Pick<NodeDescriptor, "displayName" | "platform" | "version" | "deviceFamily" | "modelIdentifier" | "remoteIp">,
    NodeDeclaration {
  caps: string[];
  commands: string[];
  connectedAtMs: number;
}

/** Something pending on a session that must fail when it goes away. */
export interface SessionBound {
  readonly session: NodeSession;
}

/** A connected node (one per node-role connection). */
export class NodeSession {
  /** Invokes sent to this connection and not answered yet; null when none. */
  pending: Set<SessionBound> | null = null;
  /** Session keys this node subscribed to with `chat.subscribe`; null when none. */
  chatSessions: Set<string> | null = null;

  constructor(
    readonly nodeId: string,
    readonly conn: Connection,
    /** Declared commands ∩ platform allowlist at connect: sorted, unique, shared. */
    readonly commands: readonly string[],
    readonly platformId: NodePlatformId,
  ) {}

  get params(): ConnectParams {
    // Set by the handshake before the connected hook registers the session.
    return this.conn.params as ConnectParams;
  }

  /** The live half of a `NodeInfo`. */
  info(): LiveNodeInfo {
    const p = this.params;
    const c = p.client;
    const out: LiveNodeInfo = { caps: uniqueSorted(p.caps ?? []), commands: [...this.commands], connectedAtMs: this.conn.connectedAtMs };
    if (c.displayName !== undefined) out.displayName = c.displayName;
    out.platform = c.platform;
    out.version = c.version;
    if (c.deviceFamily !== undefined) out.deviceFamily = c.deviceFamily;
    if (c.modelIdentifier !== undefined) out.modelIdentifier = c.modelIdentifier;
    out.remoteIp = this.conn.info.clientIp;
    if (p.pathEnv !== undefined) out.pathEnv = p.pathEnv;
    if (p.permissions !== undefined) out.permissions = { ...p.permissions };
    return out;
  }
}

/** Trimmed, de-duplicated, sorted (the reference's `uniqueSortedStrings`). */
export function uniqueSorted(values: readonly string[]): string[] {
  const s = new Set<string>();
  for (const v of values) {
    const t = v.trim();
    if (t) s.add(t);
  }
  return [...s].sort();
}
