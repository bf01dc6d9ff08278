/**
 * Messages between a bench script and its load-generator processes (IPC, JSON).
 *
 *   parent                      generator
 *     setup (rpc | handshake) →   opens connections / generates device keys
 *                             ←   ready
 *     run                     →   starts the load (keeps K in flight / C connectors busy)
 *     mark                    ←→  cumulative completed/errors at that instant
 *     stop                    →   no new work; waits for in-flight work to finish
 *                             ←   stopped
 *     exit                    →   closes sockets, exits (also exits when the parent goes away)
 */
import type { ClientIdentity } from "./connect-frames.js";

/** Steady RPC load: `conns` connections, `depth` requests in flight on each. */
export interface RpcSetup {
  type: "rpc-setup";
  url: string;
  token: string;
  client: ClientIdentity;
  conns: number;
  depth: number;
  method: string;
  /** JSON params, omitted from the frame when undefined. */
  params?: unknown;
  timeoutMs: number;
}

/** Handshake load: `concurrency` connectors, each connect → hello-ok → close, repeatedly. */
export interface HandshakeSetup {
  type: "handshake-setup";
  url: string;
  token: string;
  client: ClientIdentity;
  concurrency: number;
  auth: "token" | "device";
  /** Size of the pre-generated Ed25519 device pool (device auth). */
  devices: number;
  timeoutMs: number;
}

export type ToGenerator =
  | RpcSetup
  | HandshakeSetup
  | { type: "run" }
  | { type: "mark"; seq: number }
  | { type: "stop" }
  | { type: "exit" };

export type FromGenerator =
  | { type: "ready" }
  | { type: "mark"; seq: number; completed: number; errors: number; lastError?: string }
  | { type: "stopped"; completed: number; errors: number; lastError?: string }
  | { type: "fatal"; message: string };
