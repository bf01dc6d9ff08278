/**
 * Options of a gateway a bench starts in-process: loopback, port 0, token auth, state in
 * `stateDir`, no canvas host, defaults a bench does not measure. `policy` is passed in (the
 * `DEFAULT_POLICY` of whichever build the bench loaded) and `overrides` win.
 */
import { join } from "node:path";
import type { GatewayOptions } from "../../src/main/options.js";

export function benchGatewayOptions(stateDir: string, token: string, policy: GatewayOptions["policy"], overrides: Partial<GatewayOptions> = {}): GatewayOptions {
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
