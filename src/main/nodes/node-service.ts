/**
 * The nodes subsystem of one gateway instance: registry, pending invokes, chat
 * subscriptions and wake words, driven by the server's connection hooks.
 *
 *   handshake ok (role node) → onConnected: filter commands (§2.8), register (§2.9),
 *                              touch lastConnectedAtMs (legacy store, lazy write),
 *                              unicast voicewake.changed
 *   socket closed            → onDisconnected: unregister, fail pending invokes,
 *                              drop chat subscriptions
 *
 * Nothing here allocates per connection besides one small NodeSession; no timers or
 * closures per socket (invoke timeouts share one heap).
 */
import type { SharedIdempotencySlot } from "../agents/shared-idempotency.js";
import type { Logger } from "pino";
import type { Connection } from "../socket/connection.js";
import type { GatewayOptions } from "../options.js";
import type { LiveOptions } from "../gateway-context.js";
import type { EventBus } from "../events/event-bus.js";
import type { SystemEventQueue } from "../presence/system-event-queue.js";
import type { NodePairingStore } from "../../shared/store/node-pairing-store.js";
import { commandAllowlist, filterDeclaredCommands, nodePlatformId } from "./node-command-policy.js";
import { NodeRegistry } from "./node-registry.js";
import { NodeSession } from "./node-session.js";
import { PendingInvokes } from "./pending-invokes.js";
import { NodeSubscriptions } from "./node-subscriptions.js";
import { VoiceWakeTriggers } from "./voicewake-triggers.js";
import type { RemoteNodeRouter } from "./remote-node-router.js";

/** What the nodes subsystem needs from the server. */
export interface NodeServiceDeps {
  log: Logger;
  bus: EventBus;
  /** Live options (node command policy is hot-reloadable). */
  live: LiveOptions;
  /** Legacy node pairing store (`node.pair.*`, `node.rename`, lastConnectedAtMs). */
  pairing: NodePairingStore;
  systemEvents: SystemEventQueue;
}

/** One per gateway instance, owned by the `nodes` module (nodes-module.ts). */
export class NodeService {
  readonly registry = new NodeRegistry();
  readonly invokes = new PendingInvokes();
  readonly subscriptions = new NodeSubscriptions();
  readonly voicewake = new VoiceWakeTriggers();
  /** `node.invoke` idempotency keys shared with other gateways (set by the cluster; empty alone). */
  readonly shared: SharedIdempotencySlot = {};
  /** Nodes of other cluster gateways; null on a single gateway (see remote-node-router.ts). */
  remote: RemoteNodeRouter | null = null;

  constructor(readonly deps: NodeServiceDeps) {}

  get pairing(): NodePairingStore {
    return this.deps.pairing;
  }

  get bus(): EventBus {
    return this.deps.bus;
  }

  get systemEvents(): SystemEventQueue {
    return this.deps.systemEvents;
  }

  /** The node policy in force (`gateway.nodes`). */
  get policy(): GatewayOptions["nodes"] {
    return this.deps.live.current.nodes;
  }

  /** Loads persisted settings (wake words). */
  async start(stateDir: string): Promise<void> {
    await this.voicewake.load(stateDir);
  }

  /** Connected hook: registers node-role connections. Runs after hello-ok was queued. */
  onConnected(conn: Connection): void {
    const p = conn.params;
    if (conn.role !== "node" || p === null) return;
    const nodeId = conn.deviceId ?? p.client.id;
    const platformId = nodePlatformId(p.client.platform, p.client.deviceFamily);
    const commands = filterDeclaredCommands(p.commands, commandAllowlist(platformId, this.policy));
    // The session's filtered (and shared) list is the node's command set from now on.
    delete p.commands;
    conn.nodeId = nodeId;
    const prev = this.registry.register(new NodeSession(nodeId, conn, commands, platformId));
    if (prev) this.deps.log.debug({ nodeId, connId: conn.connId, replaced: prev.conn.connId }, "node connection replaced");
    const pairing = this.deps.pairing;
    pairing.touchConnected(nodeId, conn.connectedAtMs);
    const instanceId = p.client.instanceId;
    if (instanceId !== undefined && instanceId !== nodeId) pairing.touchConnected(instanceId, conn.connectedAtMs);
    conn.ws?.send(this.voicewake.eventFrame, false);
  }

  /** Disconnected hook: fails the node's pending invokes at once and drops its subscriptions. */
  onDisconnected(conn: Connection): void {
    if (conn.nodeId === undefined) return;
    const session = this.registry.unregister(conn);
    if (!session) return;
    const failed = this.invokes.failSession(session);
    this.subscriptions.unsubscribeAll(session);
    if (failed > 0) this.deps.log.debug({ nodeId: session.nodeId, failed }, "node disconnected with pending invokes");
  }

  /** Server shutdown: fails what is pending, forgets the fleet. */
  close(): void {
    this.invokes.close();
    this.registry.clear();
  }
}
