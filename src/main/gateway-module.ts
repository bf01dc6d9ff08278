/**
 * The gateway's concrete module types: modules see the core (`GatewayContext`), register
 * methods into the method table and HTTP routes into the mount table, and listen to
 * `Connection`s.
 */
import type { GatewayContext } from "./gateway-context.js";
import type { HttpMountTable } from "./http/mount-table.js";
import type { GatewayModule, ModuleRegistrar } from "./module.js";
import type { MethodTable } from "./router.js";
import type { Connection } from "./socket/connection.js";

/** The gateway's registration points besides the core. */
export interface GatewayExtras {
  readonly methods: MethodTable;
  /** The HTTP mount table (§7.1 order by stage; see http/mount-table.ts). */
  readonly http: HttpMountTable;
}

export type GatewayModuleDef = GatewayModule<GatewayContext, GatewayExtras, Connection>;
export type GatewayRegistrar = ModuleRegistrar<GatewayContext, GatewayExtras, Connection>;
