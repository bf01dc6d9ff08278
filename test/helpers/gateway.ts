/**
 * Starts a real gateway (production composition, uWS, real sockets) on 127.0.0.1
 * port 0 with a temp state dir.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startGateway, type GatewayDeps, type GatewayInstance } from "../../src/main/gateway.js";
import { NODES_MODULE } from "../../src/main/nodes/nodes-module.js";
import type { NodeService } from "../../src/main/nodes/node-service.js";
import type { GatewayServer } from "../../src/main/server/gateway-server.js";
import { DEFAULT_POLICY, type GatewayOptions } from "../../src/main/options.js";
import { loopbackGatewayOptions } from "../../bench/lib/gateway-options.js";

export const TEST_TOKEN = "test-token-0123456789abcdef";

export interface TestGateway {
  instance: GatewayInstance;
  server: GatewayServer;
  port: number;
  url: string;
  stateDir: string;
  /** The `nodes` module's service (registry, invokes, subscriptions, pairing store). */
  readonly nodes: NodeService;
  close(): Promise<void>;
}

export type TestGatewayOverrides = Partial<GatewayOptions> & { extra?: GatewayDeps };

/** Default options of a test gateway (token auth with TEST_TOKEN). */
export function testOptions(stateDir: string, overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  return loopbackGatewayOptions(stateDir, TEST_TOKEN, DEFAULT_POLICY, { version: "test", ...overrides });
}

export async function startTestGateway(overrides: TestGatewayOverrides = {}): Promise<TestGateway> {
  const ownDir = overrides.stateDir === undefined;
  const stateDir = overrides.stateDir ?? (await mkdtemp(join(tmpdir(), "clawgate-test-")));
  const { extra, ...opts } = overrides;
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const instance = await startGateway(testOptions(stateDir, opts), log, extra);
  return {
    instance,
    server: instance.server,
    port: instance.server.port,
    url: `ws://127.0.0.1:${instance.server.port}`,
    stateDir,
    get nodes() {
      const nodes = instance.module<NodeService>(NODES_MODULE);
      if (!nodes) throw new Error("nodes module not loaded");
      return nodes;
    },
    async close() {
      await instance.stop();
      if (ownDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
