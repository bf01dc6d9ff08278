/** Is something listening on a TCP port? (A plain connect; no bytes are sent.) */
import net from "node:net";

/** `listening` (connect succeeded), `free` (refused), `unknown` (timeout or other error). */
export type PortState = "listening" | "free" | "unknown";

/** Connects to `host:port` and reports what happened within `timeoutMs` (default 1000). */
export function probeTcpPort(host: string, port: number, timeoutMs = 1000): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (state: PortState): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on("error", () => undefined);
      socket.destroy();
      resolve(state);
    };
    const timer = setTimeout(() => done("unknown"), timeoutMs);
    socket.once("connect", () => done("listening"));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED" ? "free" : "unknown"));
  });
}

/** The host to probe for a bind host: wildcard binds are reached through loopback. */
export function probeHostFor(bindHost: string): string {
  return bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "" ? "127.0.0.1" : bindHost;
}
