/**
 * N real gateway processes (the CLI through tsx) joined into one cluster on a test's own
 * `nats-server`. Each has its own HOME/state dir (nothing shared but the broker), a fixed
 * gateway id (`gw-a`, `gw-b`, …) and its own port; any of them can be SIGKILLed and started
 * again on the same state dir.
 */
import { localGatewayEnv, startCliGateway, LOCAL_TOKEN, type CliEnv, type CliProcess } from "./cli.js";
import type { TestNatsServer } from "./nats-server.js";

export { LOCAL_TOKEN as CLUSTER_TOKEN };

/** One member gateway. */
export interface ClusterGateway {
  readonly id: string;
  readonly env: CliEnv;
  /** The live process (replaced by `restart`). */
  proc: CliProcess & { port: number; url: string };
  /** ws://127.0.0.1:<port> of the live process. */
  readonly url: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the gateway again (same state dir and id; a new port). */
  restart(): Promise<void>;
}

export interface ClusterGatewaysOptions {
  /** Extra config merged at the root (channels, agents, …). */
  config?: (id: string) => Record<string, unknown>;
  /** Extra `gateway.cluster` keys (heartbeatMs, channelLeaseMs, …). */
  cluster?: Record<string, unknown>;
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
}

type T = { after: (fn: () => Promise<void>) => void };

/** Starts `count` gateways (ids gw-a, gw-b, …) on `nats`; all killed in `t.after`. */
export async function startClusterGateways(t: T, nats: TestNatsServer, count: number, o: ClusterGatewaysOptions = {}): Promise<ClusterGateway[]> {
  const ids = Array.from({ length: count }, (_, i) => `gw-${String.fromCharCode(97 + i)}`);
  return Promise.all(ids.map((id) => startMember(t, nats, id, o)));
}

async function startMember(t: T, nats: TestNatsServer, id: string, o: ClusterGatewaysOptions): Promise<ClusterGateway> {
  const extra = o.config?.(id) ?? {};
  const env = await localGatewayEnv(t, {
    ...extra,
    gateway: {
      mode: "local",
      auth: { token: LOCAL_TOKEN },
      reload: { debounceMs: 50 },
      ...((extra.gateway as Record<string, unknown> | undefined) ?? {}),
      cluster: { enabled: true, name: "test", gatewayId: id, heartbeatMs: 250, nats: { servers: [nats.url] }, ...o.cluster },
    },
  });
  Object.assign(env.env, { CLAWDBOT_ALLOW_MULTI_GATEWAY: "1", ...o.env });
  const spawnIt = () => startCliGateway(["--port", "0"], env.env, { after: (fn) => t.after(async () => fn()) });
  const member: ClusterGateway = {
    id,
    env,
    proc: await spawnIt(),
    get url() {
      return member.proc.url;
    },
    async kill(signal = "SIGKILL") {
      const p = member.proc;
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.kill(signal);
        await p.exited;
      }
    },
    async restart() {
      await member.kill();
      member.proc = await spawnIt();
    },
  };
  return member;
}
