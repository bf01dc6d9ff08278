/**
 * The transport ceiling: a bare uWS server (same native binding and loader as the
 * gateway) speaking just enough of the protocol for the load generator.
 *
 *   open        → constant pre-serialised `connect.challenge`
 *   1st frame   → constant pre-serialised hello-ok `res` (no validation, no auth)
 *   later frame → the constant `res` captured from the real gateway for the method whose
 *                 `"method":"<name>"` bytes the frame contains (byte-identical size)
 *
 * Forked by the bench with an IPC channel: receives its config, answers with its port,
 * exits when the channel closes.
 */
import type { HttpRequest, HttpResponse, WebSocket, us_listen_socket, us_socket_context_t } from "uWebSockets.js";
import { loadUws } from "../../src/shared/uws/load-uws.js";

/** Config sent by the bench. */
export interface BaselineConfig {
  type: "baseline-config";
  challenge: string;
  hello: string;
  /** method → full `res` frame JSON. */
  responses: Record<string, string>;
}

export type BaselineReply = { type: "baseline-listening"; port: number } | { type: "fatal"; message: string };

interface UserData {
  ready: boolean;
}

function start(cfg: BaselineConfig): void {
  const uws = loadUws();
  const challenge = Buffer.from(cfg.challenge);
  const hello = Buffer.from(cfg.hello);
  const routes = Object.entries(cfg.responses).map(([m, res]) => ({ needle: Buffer.from(`"method":"${m}"`), res: Buffer.from(res) }));
  const fallback = Buffer.from('{"type":"res","id":"x","ok":true}');
  const app = uws.App() as ReturnType<typeof uws.App> & {
    listen(host: string, port: number, cb: (ls: us_listen_socket | false) => void): unknown;
  };
  app.ws<UserData>("/*", {
    maxPayloadLength: 2 * 1024 * 1024,
    maxBackpressure: 1_572_864,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      res.upgrade<UserData>(
        { ready: false },
        req.getHeader("sec-websocket-key"),
        req.getHeader("sec-websocket-protocol"),
        req.getHeader("sec-websocket-extensions"),
        context,
      );
    },
    open: (ws: WebSocket<UserData>) => {
      ws.send(challenge, false);
    },
    message: (ws: WebSocket<UserData>, message: ArrayBuffer) => {
      const ud = ws.getUserData();
      if (!ud.ready) {
        ud.ready = true;
        ws.send(hello, false);
        return;
      }
      const buf = Buffer.from(message);
      for (const r of routes) {
        if (buf.indexOf(r.needle) >= 0) {
          ws.send(r.res, false);
          return;
        }
      }
      ws.send(fallback, false);
    },
  });
  app.listen("127.0.0.1", 0, (ls: us_listen_socket | false) => {
    if (!ls) {
      process.send?.({ type: "fatal", message: "baseline could not listen" } satisfies BaselineReply);
      return;
    }
    const port = uws.us_socket_local_port(ls as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
    process.send?.({ type: "baseline-listening", port } satisfies BaselineReply);
  });
}

process.on("message", (msg: BaselineConfig) => {
  if (msg.type !== "baseline-config") throw new Error(`unexpected message ${JSON.stringify(msg)}`);
  try {
    start(msg);
  } catch (err) {
    process.send?.({ type: "fatal", message: (err as Error).message } satisfies BaselineReply);
  }
});
process.on("disconnect", () => process.exit(0));
