/**
 * Gateways for `bench/cluster-presence.ts`: a private nats-server (test/helpers/nats-server.ts)
 * and N gateway processes joined into one cluster on it, or one plain gateway, each through
 * the CLI with its own state dir (bench/lib/children.ts `spawnGateway`).
 */
import { spawnGateway, type SpawnedGateway } from "../lib/children.js";
import { startNatsServer, type TestNatsServer } from "../../test/helpers/nats-server.js";

/** Cleanups run by `disposeAll` (the nats-server's store, …), last first. */
const cleanups: (() => Promise<void>)[] = [];

/** Starts a broker whose stop and store removal run in `disposeAll`. */
export function startBroker(): Promise<TestNatsServer> {
  return startNatsServer({
    after: (fn) => {
      cleanups.push(async () => {
        await fn();
      });
    },
  });
}

export interface BenchGatewayOptions {
  token: string;
  tickIntervalMs: number;
  /** Cluster membership; absent: a plain gateway. */
  cluster?: { natsUrl: string; gatewayId: string };
}

/** One gateway process (its stop is in `disposeAll` through `spawnGateway`'s tracking). */
export async function startBenchGateway(o: BenchGatewayOptions): Promise<SpawnedGateway> {
  process.env.CLAWDBOT_ALLOW_MULTI_GATEWAY = "1";
  const gateway: Record<string, unknown> = { policy: { tickIntervalMs: o.tickIntervalMs } };
  if (o.cluster) gateway.cluster = { enabled: true, name: "bench", gatewayId: o.cluster.gatewayId, nats: { servers: [o.cluster.natsUrl] } };
  const gw = await spawnGateway({ token: o.token, config: { gateway }, startTimeoutMs: 60_000 });
  cleanups.push(() => gw.stop());
  return gw;
}

/** Stops every gateway and broker started here. */
export async function disposeAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
}
