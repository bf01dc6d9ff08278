/**
 * Operator-audience events across the cluster. The event bus hands every local broadcast
 * to `relay` after delivering it locally (`EventBus.setRelay`); the events that concern
 * operators wherever they are connected (`relayedEvent`) are published once on
 * `<names.events>.<event>` with the origin gateway id in a header and the payload JSON as
 * the body, exactly the bytes the local frames were built from. Every other gateway
 * receives it once and broadcasts it with `fromCluster` — serialised once per view there,
 * like a local event — which the bus never hands back to the relay: no loops. The origin
 * ignores its own message (it already delivered locally), so no local operator gets an
 * event twice.
 *
 * Gateway-local streams stay local: `tick`, `shutdown`, `presence` (merged separately, see
 * cluster-presence.ts), `health` (each gateway's own), `heartbeat`, `cron`, `talk.mode`,
 * `voicewake.changed`, and `exec.approval.*` (an approval is resolved on the gateway that
 * holds it). While the broker is down events are not published (no replay, like a client
 * that was not connected) and counted in `clawgate_cluster_events_unpublished_total`.
 */
import type { Logger } from "pino";
import { headers, type Msg, type Subscription } from "@nats-io/transport-node";
import type { EventBus } from "../events/event-bus.js";
import { clusterMetrics } from "../metrics/cluster-metrics.js";
import type { BrokerHandles, ClusterConnection } from "./cluster-connection.js";

/** Header naming the gateway that raised the event. */
export const ORIGIN_HEADER = "Clawgate-Origin";
/** Header present ("1") when the event is dropIfSlow. */
export const DROPPABLE_HEADER = "Clawgate-Droppable";

const RELAYED_PREFIXES = ["device.pair.", "node.pair.", "node."];
const RELAYED_EXACT = new Set(["agent", "chat"]);
/** Event names are subject tokens: nothing that could be a wildcard or a separator run. */
const SUBJECT_SAFE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** True for the events every gateway's operators receive (see the file comment). */
export function relayedEvent(event: string): boolean {
  if (!SUBJECT_SAFE.test(event)) return false;
  return RELAYED_EXACT.has(event) || RELAYED_PREFIXES.some((p) => event.startsWith(p));
}

export interface ClusterEventsDeps {
  gatewayId: string;
  /** `names.events`; events go to `<prefix>.<event>`. */
  prefix: string;
  connection: ClusterConnection;
  bus: EventBus;
  log: Logger;
}

export class ClusterEvents {
  private sub: Subscription | null = null;
  private subConn: BrokerHandles["nc"] | null = null;
  private stopped = false;

  constructor(private readonly deps: ClusterEventsDeps) {}

  start(): void {
    this.deps.bus.setRelay((event, json, droppable) => this.publish(event, json, droppable));
    this.deps.connection.onConnected((h) => this.connected(h));
  }

  stop(): void {
    this.stopped = true;
    this.deps.bus.setRelay(null);
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private connected(h: BrokerHandles): void {
    if (this.stopped || this.subConn === h.nc) return;
    this.subConn = h.nc;
    this.sub = h.nc.subscribe(`${this.deps.prefix}.>`, { callback: (err, msg) => (err ? undefined : this.receive(msg)) });
  }

  private publish(event: string, json: string | undefined, droppable: boolean): void {
    if (this.stopped || !relayedEvent(event)) return;
    const h = this.deps.connection.current();
    if (h === null) {
      clusterMetrics.eventsUnpublished++;
      return;
    }
    const hdr = headers();
    hdr.set(ORIGIN_HEADER, this.deps.gatewayId);
    if (droppable) hdr.set(DROPPABLE_HEADER, "1");
    try {
      h.nc.publish(`${this.deps.prefix}.${event}`, json ?? "", { headers: hdr });
      clusterMetrics.messageOut("events");
    } catch (err) {
      clusterMetrics.eventsUnpublished++;
      this.deps.log.warn({ event, err: err instanceof Error ? err.message : String(err) }, "cluster: event publish failed");
    }
  }

  private receive(msg: Msg): void {
    clusterMetrics.messageIn("events");
    const origin = msg.headers?.get(ORIGIN_HEADER) ?? "";
    if (origin === "" || origin === this.deps.gatewayId || this.stopped) return;
    const event = msg.subject.slice(this.deps.prefix.length + 1);
    if (!relayedEvent(event)) return;
    const payloadJson = msg.data.length > 0 ? msg.string() : undefined;
    this.deps.bus.broadcast(event, undefined, { payloadJson, fromCluster: true, droppable: msg.headers?.get(DROPPABLE_HEADER) === "1" });
    clusterMetrics.remoteEventFanouts++;
  }
}
