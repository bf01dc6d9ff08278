/**
 * Child process that opens and holds N authenticated node-role connections to a gateway
 * (raw protocol-3 clients), so the gateway process's file descriptors are only the server
 * side. Env: HOLD_URL, HOLD_TOKEN, HOLD_COUNT, HOLD_CONCURRENCY (default 200). Sends
 * `{ready: n, openMs}` over IPC when all are open, `{error}` on failure; exits when the
 * parent disconnects.
 */
import { GatewayConnection, parseWsUrl, upgradeRequest } from "./raw-ws.js";
import { maskedText } from "../../test/helpers/ws-frames.js";

const target = parseWsUrl(process.env.HOLD_URL ?? "");
const count = Number(process.env.HOLD_COUNT ?? "0");
const concurrency = Number(process.env.HOLD_CONCURRENCY ?? "200");
const frame = maskedText(
  JSON.stringify({ type: "req", id: "c", method: "connect", params: { minProtocol: 3, maxProtocol: 3, role: "node", client: { id: "node-host", version: "bench", platform: process.platform, mode: "node" }, auth: { token: process.env.HOLD_TOKEN ?? "" } } }),
);
const upgrade = upgradeRequest(target);
const held: GatewayConnection[] = [];
process.on("disconnect", () => process.exit(0));
const t0 = performance.now();
let next = 0;
try {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        held.push(await GatewayConnection.open(target, { upgrade, connectFrame: () => frame, timeoutMs: 60_000 }));
      }
    }),
  );
  process.send?.({ ready: held.length, openMs: performance.now() - t0 });
} catch (err) {
  process.send?.({ error: String(err) });
}
