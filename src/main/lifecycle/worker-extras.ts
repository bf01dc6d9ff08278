/**
 * Subsystems that run in worker threads next to the server (canvas host, …), started
 * and stopped with each gateway instance.
 */
import type { Logger } from "pino";
import type { GatewayExtraDeps } from "../gateway.js";
import type { ResolvedRuntime } from "./runtime-options.js";

export async function startWorkerExtras(
  _runtime: ResolvedRuntime,
  _log: Logger,
): Promise<{ deps: GatewayExtraDeps; stop: () => Promise<void> }> {
  return { deps: {}, stop: async () => {} };
}
