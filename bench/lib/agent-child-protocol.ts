/** IPC between bench/agent.ts (driver) and its gateway child (lib/agent-gateway-child.ts). */
export type ToAgentChild = { cmd: "config"; providerUrl: string; model: string; maxConcurrent: number } | { cmd: "eld-start" } | { cmd: "eld-stop" } | { cmd: "rss" } | { cmd: "exit" };
export type FromAgentChild = { port: number } | { eld: { p50: number; p99: number; max: number } } | { rss: number } | { ok: true };
