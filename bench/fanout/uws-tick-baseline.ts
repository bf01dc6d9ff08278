/**
 * The fan-out floor: a bare uWS server (same native binding as the gateway) that does
 * only what a held node costs the transport — a constant `connect.challenge` on open, a
 * constant hello-ok `res` for the first frame (no validation, no auth, no state), one
 * topic, and a `tick` published to it every `tickIntervalMs`. What the gateway spends
 * above this on idle CPU, RSS and broadcast reach is its own.
 *
 * Forked by `bench/fanout.ts` with IPC: receives its config, answers with its port.
 */
import type { HttpRequest, HttpResponse, WebSocket, us_listen_socket, us_socket_context_t } from "uWebSockets.js";
import { loadUws } from "../../src/shared/uws/load-uws.js";

/** Config from the bench. */
export interface TickBaselineConfig {
  type: "tick-baseline-config";
  tickIntervalMs: number;
}

export type TickBaselineReply = { type: "tick-baseline-listening"; port: number; pid: number } | { type: "fatal"; message: string };

interface UserData {
  ready: boolean;
}

function start(cfg: TickBaselineConfig): void {
  const uws = loadUws();
  const challenge = Buffer.from('{"type":"event","event":"connect.challenge","payload":{"nonce":"00000000-0000-4000-8000-000000000000","ts":0}}');
  const hello = Buffer.from(`{"type":"res","id":"c","ok":true,"payload":{"type":"hello-ok","protocol":3,"policy":{"tickIntervalMs":${cfg.tickIntervalMs}}}}`);
  const app = uws.App() as ReturnType<typeof uws.App> & {
    listen(host: string, port: number, cb: (ls: us_listen_socket | false) => void): unknown;
  };
  app.ws<UserData>("/*", {
    maxPayloadLength: 2 * 1024 * 1024,
    maxBackpressure: 1_572_864,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      res.upgrade<UserData>({ ready: false }, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context);
    },
    open: (ws: WebSocket<UserData>) => {
      ws.send(challenge, false);
    },
    message: (ws: WebSocket<UserData>) => {
      const ud = ws.getUserData();
      if (ud.ready) return;
      ud.ready = true;
      ws.send(hello, false);
      ws.subscribe("t");
    },
  });
  let seq = 0;
  setInterval(() => {
    app.publish("t", `{"type":"event","event":"tick","payload":{"ts":${Date.now()}},"seq":${++seq}}`, false);
  }, cfg.tickIntervalMs);
  app.listen("127.0.0.1", 0, (ls: us_listen_socket | false) => {
    if (!ls) {
      process.send?.({ type: "fatal", message: "tick baseline could not listen" } satisfies TickBaselineReply);
      return;
    }
    const port = uws.us_socket_local_port(ls as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
    process.send?.({ type: "tick-baseline-listening", port, pid: process.pid } satisfies TickBaselineReply);
  });
}

process.once("message", (m: TickBaselineConfig) => {
  try {
    start(m);
  } catch (err) {
    process.send?.({ type: "fatal", message: err instanceof Error ? err.message : String(err) } satisfies TickBaselineReply);
  }
});
process.on("disconnect", () => process.exit(0));
