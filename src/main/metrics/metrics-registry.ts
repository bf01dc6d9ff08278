/**
 * The Prometheus view of the gateway's counters, built with `prom-client` (loaded here by
 * dynamic import, so the gateway's start-up never pays for it: the `/metrics` route calls
 * `createMetricsRegistry` at its first scrape).
 *
 * Every metric is a `collect()` callback (or, for histograms, a `get()`) that copies the
 * plain numbers of `gateway-metrics.ts` at scrape time; nothing is observed through
 * prom-client on a hot path. A scrape's cost grows with the number of label values (RPC
 * methods, workers, close codes), never with the number of sockets: sockets by role come
 * from set sizes the connection registry already keeps.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { Metric } from "prom-client";
import type { ConnectionRegistry } from "../socket/registry.js";
import { clusterMetrics } from "./cluster-metrics.js";
import { closeCodeReason, gatewayMetrics, type BucketHistogram, type GatewayMetrics } from "./gateway-metrics.js";

/** What a scrape reads besides the process-wide counters. */
export interface MetricsSources {
  /** This gateway's sockets (set sizes only). */
  registry: ConnectionRegistry;
  /** The modules' health sections (`workers`, `channels`), read per scrape. */
  healthSections: () => Record<string, unknown>;
  /** Counters to expose. Default: the process-wide `gatewayMetrics`. */
  metrics?: GatewayMetrics;
}

/** A loaded registry: `scrape()` renders the text exposition. */
export interface MetricsRegistry {
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  scrape(): Promise<string>;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

type Labels = Record<string, string>;
interface HistValue {
  value: number;
  labels: Labels;
  metricName: string;
}

function histogramValues(name: string, h: BucketHistogram, labels: Labels, out: HistValue[]): void {
  let cum = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cum += h.counts[i]!;
    out.push({ value: cum, labels: { ...labels, le: String(h.bounds[i]) }, metricName: `${name}_bucket` });
  }
  cum += h.counts[h.bounds.length]!;
  out.push({ value: cum, labels: { ...labels, le: "+Inf" }, metricName: `${name}_bucket` });
  out.push({ value: h.sum, labels, metricName: `${name}_sum` });
  out.push({ value: h.count, labels, metricName: `${name}_count` });
}

/**
 * A histogram whose buckets are kept outside prom-client (a `BucketHistogram`). prom-client's
 * registry renders any registered metric from what its `get()` returns (name, help, type,
 * values with `metricName` suffixes), which is how its own Histogram is rendered; its
 * Histogram class cannot be loaded with pre-counted buckets, hence this small object.
 */
function snapshotHistogram(name: string, help: string, read: () => Iterable<[Labels, BucketHistogram]>): Metric {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get: async () => {
      const values: HistValue[] = [];
      for (const [labels, h] of read()) histogramValues(name, h, labels, values);
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  return metric as unknown as Metric;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `[name, state]` pairs of a health section that is an array of `{name|id, state|status}` or a map of them. */
function namedStates(section: unknown): [string, string][] {
  const out: [string, string][] = [];
  const add = (key: string, v: unknown): void => {
    if (!isObj(v)) return;
    const name = typeof v.name === "string" ? v.name : typeof v.id === "string" ? v.id : key;
    const state = typeof v.state === "string" ? v.state : typeof v.status === "string" ? v.status : undefined;
    if (name !== "" && state !== undefined) out.push([name, state]);
  };
  if (Array.isArray(section)) section.forEach((v, i) => add(String(i), v));
  else if (isObj(section)) for (const [k, v] of Object.entries(section)) add(k, v);
  return out;
}

/** Loads prom-client and builds the gateway's registry. */
export async function createMetricsRegistry(sources: MetricsSources): Promise<MetricsRegistry> {
  const prom = await import("prom-client");
  const m = sources.metrics ?? gatewayMetrics;
  const reg = new prom.Registry();
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const counter = (name: string, help: string, labelNames: string[], read: (set: (labels: Labels, v: number) => void) => void): void => {
    new prom.Counter({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        read((labels, v) => this.inc(labels, v));
      },
    });
  };
  const gauge = (name: string, help: string, labelNames: string[], read: (set: (labels: Labels, v: number) => void) => void): void => {
    new prom.Gauge({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        read((labels, v) => this.set(labels, v));
      },
    });
  };

  gauge("clawgate_sockets", "Open WebSocket connections by role (pending = not yet authenticated).", ["role"], (set) => {
    const r = sources.registry;
    const ready = r.ready;
    set({ role: "pending" }, Math.max(0, r.open.size - ready));
    set({ role: "operator" }, r.operators.size);
    set({ role: "node" }, Math.max(0, ready - r.operators.size));
  });
  counter("clawgate_sockets_opened_total", "WebSocket connections accepted.", [], (set) => set({}, m.socketsOpened));
  counter("clawgate_handshakes_total", "Handshakes completed (hello-ok sent).", [], (set) => set({}, m.handshakes));
  counter("clawgate_handshake_failures_total", "Sockets closed before completing the handshake, by close code.", ["reason", "code"], (set) => {
    for (const [code, n] of m.handshakeFailures) set({ reason: closeCodeReason(code), code: String(code) }, n);
  });
  counter("clawgate_frames_in_total", "WebSocket frames received.", [], (set) => set({}, m.framesIn));
  counter("clawgate_bytes_in_total", "WebSocket payload bytes received.", [], (set) => set({}, m.bytesIn));
  counter("clawgate_frames_out_total", "WebSocket frames sent: unicast (responses, unicast events) and broadcast publishes (one per view topic, fanned out by uWS).", ["kind"], (set) => {
    set({ kind: "unicast" }, m.framesOut);
    set({ kind: "broadcast" }, m.broadcastFrames);
  });
  counter("clawgate_bytes_out_total", "WebSocket payload sent (JSON text length; equals bytes for ASCII), per frame or per broadcast publish.", ["kind"], (set) => {
    set({ kind: "unicast" }, m.bytesOut);
    set({ kind: "broadcast" }, m.broadcastBytes);
  });
  counter("clawgate_slow_consumer_closes_total", "Clients closed as slow consumers (1008).", [], (set) => set({}, m.slowConsumerCloses));
  counter("clawgate_too_big_closes_total", "Clients closed for a frame over maxPayload (1009).", [], (set) => set({}, m.tooBigCloses));
  reg.registerMetric(snapshotHistogram("clawgate_broadcast_fanout_seconds", "Time to serialise and publish one broadcast event to every view topic.", () => [[{}, m.fanout]]));
  reg.registerMetric(
    snapshotHistogram("clawgate_rpc_duration_seconds", "RPC latency by method (params validation to response).", function* () {
      for (const [method, h] of m.rpc) yield [{ method }, h];
    }),
  );
  counter("clawgate_worker_restarts_total", "Supervised worker restarts.", ["worker"], (set) => {
    for (const [worker, n] of m.workerRestarts) set({ worker }, n);
  });
  gauge("clawgate_worker_state", "Supervised worker state (1 for the current state).", ["worker", "state"], (set) => {
    for (const [worker, state] of namedStates(sources.healthSections().workers)) set({ worker, state }, 1);
  });
  gauge("clawgate_ring_overflow_depth", "Records waiting in the main-thread overflow queue of a worker's inbound ring.", ["worker"], (set) => {
    for (const w of m.rings) {
      const s = w.ringStats();
      if (s) set({ worker: w.name }, s.queuedRecords);
    }
  });
  counter("clawgate_ring_overflows_total", "Records that went through a ring's overflow queue (ring full), per worker incarnation.", ["worker"], (set) => {
    for (const w of m.rings) {
      const s = w.ringStats();
      if (s) set({ worker: w.name }, s.overflowed);
    }
  });
  counter("clawgate_ring_rejected_total", "Records refused with GW_ERR_RING_OVERFLOW (overflow queue full), per worker incarnation.", ["worker"], (set) => {
    for (const w of m.rings) {
      const s = w.ringStats();
      if (s) set({ worker: w.name }, s.rejected);
    }
  });
  gauge("clawgate_channel_state", "Channel state (1 for the current state).", ["channel", "state"], (set) => {
    for (const [channel, state] of namedStates(sources.healthSections().channels)) set({ channel, state }, 1);
  });
  counter("clawgate_agent_runs_total", "Agent runs by outcome.", ["outcome"], (set) => {
    for (const [outcome, n] of m.agentRuns) set({ outcome }, n);
  });
  gauge("clawgate_event_loop_delay_seconds", "Event-loop delay since the previous scrape (monitorEventLoopDelay, 10 ms resolution).", ["quantile"], (set) => {
    const ns = 1e-9;
    set({ quantile: "0.5" }, loop.count > 0 ? loop.percentile(50) * ns : 0);
    set({ quantile: "0.99" }, loop.count > 0 ? loop.percentile(99) * ns : 0);
    set({ quantile: "1" }, loop.count > 0 ? loop.max * ns : 0);
    loop.reset();
  });

  const broker = clusterMetrics.broker;
  if (broker !== null) {
    const c = clusterMetrics;
    gauge("clawgate_cluster_broker_connected", "1 while the cluster's NATS broker connection is up.", [], (set) => set({}, broker().connected ? 1 : 0));
    counter("clawgate_cluster_broker_reconnects_total", "Reconnects to the NATS broker since start.", [], (set) => set({}, broker().reconnects));
    gauge("clawgate_cluster_broker_rtt_seconds", "Last measured round trip to the NATS broker.", [], (set) => {
      const rtt = broker().rttMs;
      if (rtt !== null) set({}, rtt / 1000);
    });
    counter("clawgate_cluster_messages_total", "Cluster messages published to (out) and received from (in) the broker, by subsystem.", ["direction", "kind"], (set) => {
      for (const [kind, n] of c.messagesOut) set({ direction: "out", kind }, n);
      for (const [kind, n] of c.messagesIn) set({ direction: "in", kind }, n);
    });
    counter("clawgate_cluster_remote_event_fanouts_total", "Events raised on another gateway and broadcast to this gateway's sockets.", [], (set) => set({}, c.remoteEventFanouts));
    counter("clawgate_cluster_events_unpublished_total", "Local events not published to the cluster because the broker was down.", [], (set) => set({}, c.eventsUnpublished));
  }

  return {
    contentType: prom.Registry.PROMETHEUS_CONTENT_TYPE,
    scrape: () => reg.metrics(),
    close: () => loop.disable(),
  };
}
