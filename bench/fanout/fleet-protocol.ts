/**
 * Messages between `bench/fanout.ts` and its node-fleet processes (IPC, JSON).
 *
 *   parent                          fleet worker
 *     init                     →      generates Ed25519 device keys
 *                              ←      inited {ids}
 *     connect                  →      handshakes every node (per-source-IP queues)
 *                              ←      connected {startedAt, doneAt, failures}
 *     ticks-start / ticks-stop →←     tick latencies recorded in between
 *     mark                     →      (before a gateway restart) start counting reconnects
 *                              ←      status
 *     wait-ready               →      until every node reconnected after the mark
 *                              ←      ready {doneAt, reconnects}
 *     close-all                →←     drops every socket (no reconnect)
 * Nodes answer every `node.invoke.request` with a `node.invoke.result` all along.
 */

/** First message: who to be and where to connect. */
export interface FleetInit {
  type: "init";
  host: string;
  port: number;
  /** Path + query of the WebSocket URL. */
  path: string;
  /** Host header value. */
  hostHeader: string;
  token: string;
  count: number;
  /** Source addresses (127.x.y.z) the nodes are spread over, round-robin. */
  sourceIps: string[];
  /** Handshakes in flight per source IP (the gateway's pre-auth budget is 64 per IP). */
  perIpInFlight: number;
  platform: string;
  commands: string[];
  handshakeTimeoutMs: number;
}

export type ToFleet =
  | FleetInit
  | { type: "connect" }
  | { type: "ticks-start" }
  | { type: "ticks-stop" }
  | { type: "mark" }
  | { type: "wait-ready"; timeoutMs: number }
  | { type: "status" }
  | { type: "close-all" }
  | { type: "exit" };

/** Per broadcast tick: when the first and last node of this worker saw it. */
export interface TickSpan {
  ts: number;
  first: number;
  last: number;
  count: number;
}

export type FromFleet =
  | { type: "inited"; ids: string[] }
  | { type: "connected"; startedAt: number; doneAt: number; failures: number; lastError?: string }
  | { type: "ticks"; latencies: number[]; spans: TickSpan[] }
  | { type: "ready"; firstAt: number; doneAt: number; ready: number; reconnects: number; refused: number; lastError?: string }
  | { type: "status"; ready: number; invokesAnswered: number; closeCodes: Record<string, number> }
  | { type: "closed" }
  | { type: "fatal"; message: string };
