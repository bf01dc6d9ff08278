/**
 * Composition of one gateway instance: state stores, then the server. The CLI's
 * `gateway run` and the tests start gateways through this one function.
 */
import type { Logger } from "pino";
import { DevicePairingStore } from "../shared/store/device-pairing-store.js";
import { NodePairingStore } from "../shared/store/node-pairing-store.js";
import { startGatewayServer, type GatewayServer, type GatewayServerDeps } from "./server/gateway-server.js";
import type { GatewayOptions } from "./options.js";

export interface GatewayInstance {
  server: GatewayServer;
  devices: DevicePairingStore;
  nodePairing: NodePairingStore;
  /** Graceful stop: `shutdown` event, 1012 closes, stores flushed. */
  stop(reason?: string, restartExpectedMs?: number | null): Promise<void>;
}

export type GatewayExtraDeps = Omit<GatewayServerDeps, "log" | "devices" | "nodePairing">;

/** Opens the stores and starts the server. */
export async function startGateway(options: GatewayOptions, log: Logger, extra: GatewayExtraDeps = {}): Promise<GatewayInstance> {
  let server: GatewayServer | null = null;
  const devices = await DevicePairingStore.open({
    stateDir: options.stateDir,
    // Pairing events are broadcast to pairing-scoped clients once the server is up.
    onEvent: (e) => server?.ctx.bus.broadcast(e.event, e.payload),
    onWarning: (message, details) => log.warn(details, message),
  });
  let nodePairing: NodePairingStore;
  try {
    nodePairing = await NodePairingStore.open({ stateDir: options.stateDir, onWarning: (message, details) => log.warn(details, message) });
  } catch (err) {
    await devices.close();
    throw err;
  }
  try {
    server = await startGatewayServer(options, { log, devices, nodePairing, ...extra });
  } catch (err) {
    await devices.close();
    await nodePairing.close();
    throw err;
  }
  const s = server;
  let stopping: Promise<void> | null = null;
  return {
    server: s,
    devices,
    nodePairing,
    stop(reason = "gateway stopping", restartExpectedMs = null) {
      stopping ??= (async () => {
        await s.close(reason, restartExpectedMs);
        await devices.close();
        await nodePairing.close();
      })();
      return stopping;
    },
  };
}
