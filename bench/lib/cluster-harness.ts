/**
 * A small cluster for bench/cluster.ts: a private nats-server (the test helper's, JetStream
 * on, own store) and N gateway processes started through the CLI like `spawnGateway`
 * does, each with `gateway.cluster` pointing at it. Sections of the bench share it.
 */
import { spawnGateway, type SpawnedGateway } from "./children.js";
import { startNatsServer, type TestNatsServer } from "../../test/helpers/nats-server.js";

/** The running cluster a section measures. */
export interface BenchCluster {
  nats: TestNatsServer;
  /** Gateways `gw-a`, `gw-b`, … in order. */
  gateways: (SpawnedGateway & { id: string })[];
  /** `gateway.cluster.heartbeatMs` they run with. */
  heartbeatMs: number;
  /** Stops the gateways and the broker. */
  stop(): Promise<void>;
}

export interface BenchClusterOptions {
  gateways: number;
  token: string;
  /** Default 2000 (the production default). */
  heartbeatMs?: number;
  /** Extra node flags per gateway (e.g. `--cpu-prof`). */
  nodeArgs?: (id: string) => string[];
}

/** Starts the broker and the gateways, and waits until each sees all the others. */
export async function startBenchCluster(o: BenchClusterOptions): Promise<BenchCluster> {
  const cleanups: (() => unknown)[] = [];
  const nats = await startNatsServer({ after: (fn) => cleanups.push(fn) });
  // Several gateways under one user: each has its own state dir, none shares a lock.
  process.env.CLAWDBOT_ALLOW_MULTI_GATEWAY = "1";
  const heartbeatMs = o.heartbeatMs ?? 2000;
  const ids = Array.from({ length: o.gateways }, (_, i) => `gw-${String.fromCharCode(97 + i)}`);
  const gateways = await Promise.all(
    ids.map(async (id) => {
      const gw = await spawnGateway({
        token: o.token,
        nodeArgs: o.nodeArgs?.(id) ?? [],
        config: { gateway: { cluster: { enabled: true, name: "bench", gatewayId: id, heartbeatMs, nats: { servers: [nats.url] } } } },
      });
      return Object.assign(gw, { id });
    }),
  );
  return {
    nats,
    gateways,
    heartbeatMs,
    async stop() {
      await Promise.all(gateways.map((g) => g.stop()));
      for (const fn of cleanups.reverse()) await fn();
    },
  };
}
