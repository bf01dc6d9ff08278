/**
 * Builds the `hello-ok` payload (§2.10) as a JSON string from pre-serialised parts:
 * the presence list and health snapshot are serialised once per change, not once per
 * connecting client.
 *
 * Node-role connections get `snapshot.presence: []`: nodes are not presence consumers
 * here (they never receive `presence` broadcasts, see events/event-policy.ts), and the
 * full list (up to 200 entries, ~50 KB) was the largest single cost of a node
 * handshake — a quarter of the gateway's CPU in a 10k-node reconnect storm
 * (docs/nodes.md).
 */
import os from "node:os";
import { PROTOCOL_VERSION } from "../../shared/protocol/version.js";
import { GATEWAY_EVENTS } from "../../shared/protocol/methods.js";
import { MAIN_SESSION_KEY, DEFAULT_AGENT_ID } from "../../shared/store/sessions/sessions-info.js";
import type { GatewayContext } from "../gateway-context.js";
import type { Connection } from "../socket/connection.js";
import { canonicalIp, hostHeaderName } from "../auth/client-ip.js";

export interface HelloAuth {
  deviceToken: string;
  role: string;
  scopes: string[];
  issuedAtMs?: number;
}

const featuresCache = new WeakMap<GatewayContext, string>();
/** os.hostname() is a syscall; it was ~8% of a token handshake. */
const HOSTNAME = os.hostname();

function featuresJson(ctx: GatewayContext): string {
  let json = featuresCache.get(ctx);
  if (!json) {
    json = JSON.stringify({ methods: ctx.advertisedMethods(), events: [...GATEWAY_EVENTS] });
    featuresCache.set(ctx, json);
  }
  return json;
}

/**
 * `http(s)://<host>:<canvasPort>`: host from the Host header, else the bind address. On a
 * non-loopback canvas bind the URL ends with this session's capability mount
 * (`/__cap/<token>`); clients append `/__clawdbot__/canvas/…` to it as they always do.
 */
export function canvasHostUrl(ctx: GatewayContext, conn: Connection): string | undefined {
  const port = ctx.options.canvasHostPort;
  if (port === null) return undefined;
  let host = hostHeaderName(conn.info.host) || ctx.options.host;
  if (host === "0.0.0.0" || host === "::") host = "127.0.0.1";
  const ip = canonicalIp(host);
  if (ip !== undefined && ip.includes(":")) host = `[${ip}]`;
  const proto = conn.info.forwardedProto.toLowerCase() === "https" ? "https" : "http";
  return `${proto}://${host}:${port}${ctx.canvasAccess?.urlPrefixFor(conn.connId) ?? ""}`;
}

/** The hello-ok payload as JSON. */
export function helloOkJson(ctx: GatewayContext, conn: Connection, auth: HelloAuth | undefined): string {
  const o = ctx.options;
  const server: Record<string, string> = { version: o.version };
  if (o.commit) server.commit = o.commit;
  server.host = HOSTNAME;
  server.connId = conn.connId;
  const sv = ctx.bus.stateVersion;
  const snapshotTail = JSON.stringify({
    stateVersion: { presence: sv.presence, health: sv.health },
    uptimeMs: Math.floor(process.uptime() * 1000),
    configPath: o.configPath,
    stateDir: o.stateDir,
    sessionDefaults: { defaultAgentId: DEFAULT_AGENT_ID, mainKey: "main", mainSessionKey: MAIN_SESSION_KEY, scope: "per-sender" },
  });
  const presence = conn.role === "node" ? "[]" : ctx.presence.listJson();
  const snapshot = `{"presence":${presence},"health":${ctx.health.snapshotJson},${snapshotTail.slice(1)}`;
  const canvas = canvasHostUrl(ctx, conn);
  let out = `{"type":"hello-ok","protocol":${PROTOCOL_VERSION},"server":${JSON.stringify(server)},"features":${featuresJson(ctx)},"snapshot":${snapshot}`;
  if (canvas) out += `,"canvasHostUrl":${JSON.stringify(canvas)}`;
  if (auth) out += `,"auth":${JSON.stringify(auth)}`;
  out += `,"policy":${JSON.stringify({ maxPayload: o.policy.maxPayload, maxBufferedBytes: o.policy.maxBufferedBytes, tickIntervalMs: o.policy.tickIntervalMs })}}`;
  return out;
}
