/**
 * What cluster modules need from the composition (gateway.ts) besides the registrar: the
 * address the server bound, known only once it listens (`--port 0`), and a checked way to
 * read the api of a module they depend on.
 */
import { GatewayError } from "../../shared/errors.js";
import type { GatewayRegistrar } from "../gateway-module.js";

/** The server's bound address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Links from gateway.ts into the cluster modules. */
export interface ClusterHostLinks {
  /** The bound address, or null until the server listens. */
  listening(): ListenAddress | null;
}

/** The api of `module` (listed in `dependsOn` of `by`), or a start-up error naming what is missing. */
export function requireApi<T>(r: GatewayRegistrar, module: string, by: string): T {
  const api = r.api<T>(module);
  if (api === undefined) throw new GatewayError("GW_ERR_MODULE_GRAPH", `gateway module "${by}" needs the api of "${module}", which is not registered`, { module: by, dependsOn: module });
  return api;
}
