/**
 * Captures what a gateway actually sends (hello-ok, one `res` per method) so the uWS
 * baseline can answer with byte-identical frames: the baseline then differs from the
 * gateway only in the work done per frame, not in bytes on the wire.
 */
import { GatewayConnection, parseWsUrl, upgradeRequest } from "./raw-ws.js";
import { OP_TEXT, isResFrame, maskedText } from "../../test/helpers/ws-frames.js";
import { tokenConnectFrame, type ClientIdentity } from "./connect-frames.js";

export interface CapturedFrames {
  hello: string;
  /** method → `res` frame JSON (whatever ok/error the gateway answered). */
  responses: Record<string, string>;
}

/** Connects once, calls every method once, returns the raw frames. */
export async function captureFrames(url: string, token: string, client: ClientIdentity, methods: readonly string[], timeoutMs = 10_000): Promise<CapturedFrames> {
  const target = parseWsUrl(url);
  const conn = await GatewayConnection.open(target, {
    upgrade: upgradeRequest(target),
    connectFrame: tokenConnectFrame(client, token),
    timeoutMs,
    keepHello: true,
  });
  conn.parser.full = true;
  const responses: Record<string, string> = {};
  try {
    for (const method of methods) {
      responses[method] = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no response to ${method} within ${timeoutMs} ms`)), timeoutMs);
        conn.onFrame = (op, _fin, data) => {
          if (op !== OP_TEXT || !isResFrame(data)) return;
          clearTimeout(t);
          resolve(data.toString("utf8"));
        };
        conn.socket.write(maskedText(JSON.stringify({ type: "req", id: "b0000", method })));
      });
    }
  } finally {
    await conn.close();
  }
  return { hello: conn.helloJson, responses };
}
