/**
 * What cluster modules need from the composition (gateway.ts) besides the core: other
 * modules' apis (the registrar hands a module the core only) and the address the server
 * bound, known only once it listens (`--port 0`).
 */

/** The server's bound address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Links from gateway.ts into the cluster modules. */
export interface ClusterHostLinks {
  /** What a registered module exposes (`ModuleHost.api`); undefined before it registered. */
  api<T>(name: string): T | undefined;
  /** The bound address, or null until the server listens. */
  listening(): ListenAddress | null;
}
