/**
 * Plain HTTP/1.1 helpers for tests: one request per connection (no agent), bounded in time,
 * plus a raw-socket variant for requests node's client would not send (half bodies, resets).
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request and collects the whole response. */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in time`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Opens a raw TCP connection to 127.0.0.1:port. */
export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => resolve(sock));
    sock.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection (or `timeoutMs` passes → rejects). */
export function readUntilClose(sock: Socket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection still open after ${timeoutMs} ms; got ${JSON.stringify(got.slice(0, 200))}`));
    }, timeoutMs);
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}
