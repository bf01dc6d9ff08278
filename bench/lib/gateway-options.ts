/**
 * Options of a gateway a bench or a test starts in-process (test/helpers/gateway.ts
 * `testOptions` builds on it): loopback, port 0, token auth, state in `stateDir`, no canvas
 * host, defaults neither measures. `policy` is passed in (the `DEFAULT_POLICY` of whichever
 * build the caller loaded) and `overrides` win. Here, not under test/, because the benches'
 * tsc build compiles `bench/lib` with the gateway's sources.
 */
import { join } from "node:path";
import type { GatewayOptions } from "../../src/main/options.js";

export function loopbackGatewayOptions(stateDir: string, token: string, policy: GatewayOptions["policy"], overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  return {
    host: "127.0.0.1",
    port: 0,
    auth: { mode: "token", token },
    stateDir,
    configPath: join(stateDir, "clawdbot.json"),
    policy: { ...policy },
    handshakeTimeoutMs: 10_000,
    preAuthMaxPerIp: 64,
    presenceMaxEntries: 200,
    controlUi: { enabled: true, basePath: "", allowInsecureAuth: false, allowedOrigins: [] },
    trustedProxies: [],
    nodes: { allowCommands: [], denyCommands: [] },
    canvasHostPort: null,
    version: "bench",
    healthRefreshMs: 60_000,
    presenceBroadcastWindowMs: 100,
    ...overrides,
  };
}
