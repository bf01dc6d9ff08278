/**
 * Doctor: is the configured gateway port free, held by our gateway, or held by
 * something else? A TCP connect first; when something listens, a WS `health` RPC tells
 * a clawdbot gateway from any other process.
 */
import { callGateway } from "../gateway-client.js";
import { probeHostFor, probeTcpPort } from "../../shared/net/port-probe.js";
import { resolveRpcTarget } from "../rpc-target.js";
import { resolveBindHost, resolveGatewayPort } from "../../shared/config/ports.js";
import { findPortHolders } from "../../main/lifecycle/port-holders.js";
import type { DoctorCheck, DoctorContext } from "./doctor-types.js";

/** RPC timeout of the probe (ms). */
const PROBE_TIMEOUT_MS = 3000;

/** Checks the configured port. */
export async function checkPort(ctx: DoctorContext): Promise<DoctorCheck> {
  let port: number;
  let host = "127.0.0.1";
  try {
    port = resolveGatewayPort({ env: ctx.env, config: ctx.snap.config }).port;
    host = probeHostFor(resolveBindHost({ config: ctx.snap.config }).host);
  } catch (err) {
    return { id: "port", status: "fail", message: (err as Error).message, fix: "fix gateway.port / CLAWDBOT_GATEWAY_PORT / gateway.bind" };
  }
  if (port === 0) return { id: "port", status: "ok", message: "port 0: the OS picks a free port at start" };
  const state = await probeTcpPort(host, port);
  if (state === "free") return { id: "port", status: "ok", message: `port ${port} is free (no gateway running on ${host})` };
  if (state === "unknown") return { id: "port", status: "warn", message: `could not tell whether ${host}:${port} is in use (connect timed out)` };
  const url = `ws://${host}:${port}`;
  try {
    const target = await resolveRpcTarget({ url, timeout: String(PROBE_TIMEOUT_MS) }, ctx.env, { urlIsLocal: true });
    await callGateway("health", {}, { url, token: target.token, password: target.password, timeoutMs: PROBE_TIMEOUT_MS, stateDir: target.deviceStateDir });
    return { id: "port", status: "ok", message: `a gateway is running on ${url} and answered health` };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== undefined || e.message.startsWith("gateway closed (")) {
      return {
        id: "port",
        status: "warn",
        message: `a gateway answers on ${url} but refused the health call: ${e.message}`,
        fix: "check gateway.auth.token / CLAWDBOT_GATEWAY_TOKEN (another profile's gateway may hold this port)",
      };
    }
    const holders = await findPortHolders(port).catch(() => []);
    const who = holders.length ? ` (${holders.map((h) => `pid ${h.pid} ${h.command}`).join(", ")})` : "";
    return {
      id: "port",
      status: "fail",
      message: `port ${port} is in use by something that is not a Clawdbot gateway${who}: ${e.message}`,
      fix: `stop that process, pick another port (gateway.port or ${ctx.cli} gateway --port <n>), or let \`${ctx.cli} gateway --force\` terminate the listener`,
    };
  }
}
