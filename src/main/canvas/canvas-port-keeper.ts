/**
 * Keeps the canvas host's port on the main thread until the canvas is first used, so the
 * canvas worker (a thread of its own: ~15 MB of RSS) starts only when a client connects.
 *
 *   gateway start ── keeper binds host:port (port 0 → the kernel picks; kept for good)
 *   first connection ── held (paused), `onFirstConnection` starts the worker
 *   worker prepared ── release(): keeper stops listening; worker binds the same port
 *   worker listening ── forward(): every held socket is piped to the worker's port
 *
 * Why a hand-over and not SO_REUSEPORT: the worker serves with `node:http` (see
 * workers/canvas/canvas-server.ts), and Node 20's `net` cannot set SO_REUSEPORT, so two
 * listeners cannot share the port even for a moment. The cost is a gap between release()
 * and the worker's bind (one ring round trip): a connection that arrives in it is refused,
 * like one that arrives before any canvas host listens. Connections accepted before the
 * hand-over are relayed byte for byte (HTTP or the live-reload WebSocket alike) until either
 * side closes; later ones reach the worker directly.
 */
import net from "node:net";

/** Sockets accepted before the worker listens; beyond this they are refused (reset). */
const MAX_HELD = 256;

/** The main-thread placeholder listener of the canvas port. */
export class CanvasPortKeeper {
  readonly #server: net.Server;
  readonly #held: net.Socket[] = [];
  #released = false;
  #first = true;

  private constructor(
    server: net.Server,
    /** The bound port. */
    readonly port: number,
    private readonly onFirstConnection: () => void,
  ) {
    this.#server = server;
    server.on("connection", (socket) => this.#accept(socket));
  }

  /**
   * Binds `host:port` (0 picks a free port) and calls `onFirstConnection` once, at the first
   * accepted connection. Rejects like `listen` (EADDRINUSE, EADDRNOTAVAIL, ...).
   */
  static open(host: string, port: number, onFirstConnection: () => void): Promise<CanvasPortKeeper> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true });
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        // Errors after the bind (EMFILE on accept, ...) only cost that connection.
        server.on("error", () => undefined);
        resolve(new CanvasPortKeeper(server, (server.address() as net.AddressInfo).port, onFirstConnection));
      });
    });
  }

  /** True until release() (or close()) gave the port up. */
  get holding(): boolean {
    return !this.#released;
  }

  /** Connections waiting for the worker. */
  get heldCount(): number {
    return this.#held.length;
  }

  #accept(socket: net.Socket): void {
    socket.on("error", () => undefined);
    if (this.#held.length >= MAX_HELD) {
      socket.resetAndDestroy();
      return;
    }
    this.#held.push(socket);
    socket.once("close", () => {
      const i = this.#held.indexOf(socket);
      if (i >= 0) this.#held.splice(i, 1);
    });
    if (this.#first) {
      this.#first = false;
      this.onFirstConnection();
    }
  }

  /**
   * Stops listening so the worker can bind the port. The listening socket is closed before
   * this returns (libuv closes a stream's fd synchronously); held connections stay open.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#server.close();
  }

  /** Relays every held connection to the worker at `host:port` (after release()). */
  forward(host: string, port: number): void {
    for (const client of this.#held.splice(0)) {
      const upstream = net.connect({ host, port });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    }
  }

  /** Gives the port up and drops the held connections (gateway stop, or the worker never listens). */
  close(): void {
    this.release();
    for (const s of this.#held.splice(0)) s.destroy();
  }
}
