/**
 * The gateway's one connection to the NATS broker (`@nats-io/transport-node`), with
 * JetStream and KV handles on top. The broker may be down at start and may go away at any
 * time: the connection retries forever (`maxReconnectAttempts: -1`, `waitOnFirstConnect`)
 * in the background, `start()` never blocks the gateway on it, and `available()` tells
 * cluster operations to answer UNAVAILABLE (retryable) until it is back. Listeners
 * registered with `onConnected` run at every (re)connect so each subsystem re-creates its
 * subscriptions and watches — nothing needs a gateway restart to converge.
 */
import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Logger } from "pino";
import type { ClusterNatsOptions } from "./cluster-options.js";

/** Broker connection state, shown in `health.cluster` and `gateway status`. */
export interface BrokerStatus {
  connected: boolean;
  /** The server URL connected to (no credentials). */
  server: string | null;
  /** Reconnects since start. */
  reconnects: number;
  lastConnectedAt: number | null;
  lastDisconnectAt: number | null;
  lastError: string | null;
  /** Last measured round trip to the broker (ms). */
  rttMs: number | null;
}

/** Handles valid while connected. */
export interface BrokerHandles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kvm: Kvm;
}

type ConnectedListener = (h: BrokerHandles, first: boolean) => void | Promise<void>;

async function connectOptions(o: ClusterNatsOptions, gatewayId: string): Promise<NodeConnectionOptions> {
  const opts: NodeConnectionOptions = {
    servers: o.servers,
    name: `clawgate:${gatewayId}`,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    pingInterval: 10_000,
    maxPingOut: 2,
    // Otherwise every request (cross-gateway RPC, each JetStream publish of a KV put)
    // builds two Error objects with stack traces up front, a few % of a gateway's CPU
    // under cross-gateway load (bench/cluster.ts --cpu-prof).
    noAsyncTraces: true,
  };
  if (o.token !== undefined) opts.token = o.token;
  if (o.user !== undefined) {
    opts.user = o.user;
    opts.pass = o.password;
  }
  if (o.creds !== undefined) opts.authenticator = credsAuthenticator(await readFile(o.creds));
  if (o.tls) opts.tls = { ...o.tls };
  return opts;
}

/** Strips userinfo from a URL for display. */
function displayServer(url: string | undefined): string | null {
  if (!url) return null;
  return url.replace(/\/\/[^@/]*@/, "//");
}

export class ClusterConnection {
  private handles: BrokerHandles | null = null;
  private readonly listeners: ConnectedListener[] = [];
  private closed = false;
  private connecting: Promise<void> | null = null;
  private rttTimer: NodeJS.Timeout | null = null;
  readonly status: BrokerStatus = {
    connected: false, server: null, reconnects: 0, lastConnectedAt: null, lastDisconnectAt: null, lastError: null, rttMs: null,
  };

  constructor(
    private readonly opts: ClusterNatsOptions,
    private readonly gatewayId: string,
    private readonly log: Logger,
  ) {}

  /** Starts connecting in the background; resolves at once. */
  start(): void {
    this.connecting ??= this.run().catch((err: unknown) => {
      this.status.lastError = err instanceof Error ? err.message : String(err);
      this.log.error({ err: this.status.lastError }, "cluster: broker connection gave up");
    });
  }

  /** True while the broker is reachable. */
  available(): boolean {
    return this.status.connected && this.handles !== null;
  }

  /** The live handles, or null while disconnected. */
  current(): BrokerHandles | null {
    return this.status.connected ? this.handles : null;
  }

  /** Resolves once connected (tests, start-up of dependent work); rejects after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<BrokerHandles> {
    const deadline = Date.now() + timeoutMs;
    while (!this.available()) {
      if (this.closed || Date.now() > deadline) throw new Error("cluster broker not connected");
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.handles as BrokerHandles;
  }

  /** Runs `fn` at every (re)connect, and now when already connected. */
  onConnected(fn: ConnectedListener): void {
    this.listeners.push(fn);
    if (this.handles && this.status.connected) void this.fire(fn, this.handles, true);
  }

  private async fire(fn: ConnectedListener, h: BrokerHandles, first: boolean): Promise<void> {
    try {
      await fn(h, first);
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "cluster: reconnect handler failed");
    }
  }

  private async run(): Promise<void> {
    const nc = await connect(await connectOptions(this.opts, this.gatewayId));
    if (this.closed) {
      await nc.close();
      return;
    }
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    this.handles = { nc, js, jsm, kvm: new Kvm(js) };
    this.markConnected(nc);
    for (const fn of this.listeners) await this.fire(fn, this.handles, true);
    this.rttTimer = setInterval(() => {
      if (!this.status.connected) return;
      nc.rtt().then((ms) => { this.status.rttMs = Math.round(ms * 100) / 100; }, () => undefined);
    }, 5000);
    this.rttTimer.unref();
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          this.status.connected = false;
          this.status.lastDisconnectAt = Date.now();
          this.log.warn({ server: displayServer(s.server) }, "cluster: broker disconnected; cluster operations answer UNAVAILABLE until it is back");
          break;
        case "reconnect":
          this.status.reconnects += 1;
          this.markConnected(nc);
          this.log.info({ server: displayServer(s.server) }, "cluster: broker reconnected");
          for (const fn of this.listeners) await this.fire(fn, this.handles, false);
          break;
        case "error":
          this.status.lastError = s.error.message;
          break;
        default:
          break;
      }
    }
  }

  private markConnected(nc: NatsConnection): void {
    this.status.connected = true;
    this.status.lastConnectedAt = Date.now();
    this.status.server = displayServer(nc.getServer());
    nc.rtt().then((ms) => { this.status.rttMs = Math.round(ms * 100) / 100; }, () => undefined);
  }

  /** Drains subscriptions and closes; safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.rttTimer) clearInterval(this.rttTimer);
    const h = this.handles;
    this.handles = null;
    this.status.connected = false;
    if (h && !h.nc.isClosed()) await h.nc.drain().catch(() => h.nc.close());
  }
}
