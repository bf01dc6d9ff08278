/**
 * The one set-up of bench/cluster.ts: a private nats-server (the test helper's, JetStream
 * on, own store) and N gateway processes started through the CLI like `spawnGateway`
 * does, each with `gateway.cluster` pointing at it. Every section measures the same
 * running cluster; a section that needs a baseline outside the cluster (one plain
 * gateway) asks the harness for it, so the broker and gateways are stopped in one place.
 */
import { spawnGateway, sleep, type SpawnedGateway } from "./children.js";
import { connectOk, type TestClient } from "../../test/helpers/client.js";
import { startNatsServer, type TestNatsServer } from "../../test/helpers/nats-server.js";

/** A gateway of the cluster, with its `gateway.cluster.gatewayId`. */
export type BenchGateway = SpawnedGateway & { id: string };

/** The running cluster a section measures. */
export interface BenchCluster {
  nats: TestNatsServer;
  /** Gateways `gw-a`, `gw-b`, … in order. */
  gateways: BenchGateway[];
  /** Token of every gateway (cluster and plain). */
  token: string;
  /** `gateway.cluster.heartbeatMs` they run with. */
  heartbeatMs: number;
  /** `gateway.policy.tickIntervalMs` of every gateway (cluster and plain). */
  tickIntervalMs: number;
  /** An operator (`operator.admin`) connected to `gw`; closed by the caller. */
  operator(gw: SpawnedGateway): Promise<TestClient>;
  /**
   * A gateway outside the cluster with the same token and policy (a section's baseline);
   * stopped by `stopPlainGateway` or at `stop()`.
   */
  startPlainGateway(): Promise<SpawnedGateway>;
  stopPlainGateway(gw: SpawnedGateway): Promise<void>;
  /** Stops the gateways (plain ones too) and the broker. */
  stop(): Promise<void>;
}

export interface BenchClusterOptions {
  gateways: number;
  token: string;
  /** Default 2000 (the production default). */
  heartbeatMs?: number;
  /**
   * Default 1000: the `broadcast` section measures the tick, so it must come often; one
   * tick a second to the few clients of the other sections costs nothing measurable.
   */
  tickIntervalMs?: number;
  /** Start-up budget per gateway, default 60000 ms (the machine is shared). */
  startTimeoutMs?: number;
  /** Extra node flags per cluster gateway (e.g. `--cpu-prof`). */
  nodeArgs?: (id: string) => string[];
}

/**
 * Starts the broker and the gateways, and waits until every gateway lists every other
 * one in `system-presence` (they have heard each other's full state).
 */
export async function startBenchCluster(o: BenchClusterOptions): Promise<BenchCluster> {
  const cleanups: (() => unknown)[] = [];
  const nats = await startNatsServer({ after: (fn) => cleanups.push(fn) });
  // Several gateways under one user: each has its own state dir, none shares a lock.
  process.env.CLAWDBOT_ALLOW_MULTI_GATEWAY = "1";
  const heartbeatMs = o.heartbeatMs ?? 2000;
  const tickIntervalMs = o.tickIntervalMs ?? 1000;
  const startTimeoutMs = o.startTimeoutMs ?? 60_000;
  const policy = { tickIntervalMs };
  const ids = Array.from({ length: o.gateways }, (_, i) => `gw-${String.fromCharCode(97 + i)}`);
  const plain = new Set<SpawnedGateway>();
  const gateways = await Promise.all(
    ids.map(async (id) => {
      const gw = await spawnGateway({
        token: o.token,
        nodeArgs: o.nodeArgs?.(id) ?? [],
        startTimeoutMs,
        config: { gateway: { policy, cluster: { enabled: true, name: "bench", gatewayId: id, heartbeatMs, nats: { servers: [nats.url] } } } },
      });
      return Object.assign(gw, { id });
    }),
  );
  const operator = async (gw: SpawnedGateway): Promise<TestClient> => {
    const { client } = await connectOk(gw.url, { token: o.token, scopes: ["operator.admin"], client: { id: "test", mode: "test" } });
    return client;
  };
  const cluster: BenchCluster = {
    nats,
    gateways,
    token: o.token,
    heartbeatMs,
    tickIntervalMs,
    operator,
    async startPlainGateway() {
      const gw = await spawnGateway({ token: o.token, startTimeoutMs, config: { gateway: { policy } } });
      plain.add(gw);
      return gw;
    },
    async stopPlainGateway(gw) {
      plain.delete(gw);
      await gw.stop();
    },
    async stop() {
      await Promise.all([...gateways, ...plain].map((g) => g.stop()));
      for (const fn of cleanups.reverse()) await fn();
    },
  };
  try {
    await waitForMutualPresence(cluster, 30_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function waitForMutualPresence(cluster: BenchCluster, timeoutMs: number): Promise<void> {
  const ids = cluster.gateways.map((g) => g.id);
  const deadline = Date.now() + timeoutMs;
  for (const gw of cluster.gateways) {
    const op = await cluster.operator(gw);
    try {
      for (;;) {
        const res = await op.request("system-presence");
        const list = (res.payload ?? []) as { instanceId?: string }[];
        if (ids.every((id) => list.some((e) => e.instanceId === id))) break;
        if (Date.now() > deadline) throw new Error(`cluster did not converge: ${gw.id} lists ${JSON.stringify(list.map((e) => e.instanceId))}`);
        await sleep(50);
      }
    } finally {
      op.close();
    }
  }
}
