/**
 * The gateway's concrete module types: modules see the core (`GatewayContext`), register
 * methods into the method table and HTTP routes into the mount list, and listen to
 * `Connection`s.
 */
import type { TemplatedApp } from "uWebSockets.js";
import type { GatewayContext } from "./gateway-context.js";
import type { GatewayModule, ModuleRegistrar } from "./module.js";
import type { MethodTable } from "./router.js";
import type { Connection } from "./socket/connection.js";

/** Registers HTTP routes on the app, before the 404 fallback, in module order. */
export type HttpMount = (app: TemplatedApp, ctx: GatewayContext) => void;

/** The gateway's registration points besides the core. */
export interface GatewayExtras {
  readonly methods: MethodTable;
  /** HTTP routes, mounted in this order once every module registered. */
  readonly http: HttpMount[];
}

export type GatewayModuleDef = GatewayModule<GatewayContext, GatewayExtras, Connection>;
export type GatewayRegistrar = ModuleRegistrar<GatewayContext, GatewayExtras, Connection>;
