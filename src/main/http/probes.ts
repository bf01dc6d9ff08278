/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: 200 only
 * while the gateway serves, every supervised worker is running (or idle until first use) and no channel has
 * hard-failed; 503 with the first reason otherwise). Both are unauthenticated, tiny and
 * computed from state already in memory: the `workers` and `channels` health sections
 * the modules contribute (a few entries), never a walk over sockets.
 */
import type { HttpResponse } from "uWebSockets.js";
import type { GatewayContext } from "../gateway-context.js";
import type { HttpMountTable } from "./mount-table.js";

/** Channel states that mean "will not recover by itself". */
const CHANNEL_HARD_FAILED = new Set(["failed", "broken", "error", "stopped-error"]);

function json(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(body);
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function entries(section: unknown): [string, Record<string, unknown>][] {
  if (Array.isArray(section)) return section.filter(isObj).map((v, i) => [typeof v.name === "string" ? v.name : typeof v.id === "string" ? v.id : String(i), v]);
  if (isObj(section)) return Object.entries(section).filter((e): e is [string, Record<string, unknown>] => isObj(e[1]));
  return [];
}

/** Why the gateway is not ready, or null when it is. */
export function notReadyReason(ctx: GatewayContext): string | null {
  if (ctx.shuttingDown) return "shutting down";
  if (ctx.health.snapshotJson === "{}") return "health not computed yet";
  const sections = ctx.healthSections();
  for (const [name, w] of entries(sections.workers)) {
    // "idle": started on first use (the canvas worker; its port is held meanwhile).
    if (w.state !== "running" && w.state !== "idle") return `worker ${name} is ${typeof w.state === "string" ? w.state : "unknown"}`;
  }
  for (const [name, c] of entries(sections.channels)) {
    const state = typeof c.state === "string" ? c.state : typeof c.status === "string" ? c.status : "";
    if (c.hardFailed === true || CHANNEL_HARD_FAILED.has(state)) return `channel ${name} failed`;
  }
  return null;
}

/** Mounts the probes first in the table (a root Control UI must never shadow them). */
export function mountProbes(table: HttpMountTable, ctx: GatewayContext): void {
  // GET only, other methods fall through to 404, as the uWS `app.get` routes they replace did.
  table.mount({
    stage: "probes",
    path: { exact: "/healthz" },
    methods: ["GET"],
    otherMethods: "next",
    handler: (res) => json(res, "200 OK", `{"ok":true,"uptimeMs":${Math.floor(process.uptime() * 1000)}}`),
  });
  table.mount({
    stage: "probes",
    path: { exact: "/readyz" },
    methods: ["GET"],
    otherMethods: "next",
    handler: (res) => {
      const reason = notReadyReason(ctx);
      if (reason === null) json(res, "200 OK", '{"ready":true}');
      else json(res, "503 Service Unavailable", JSON.stringify({ ready: false, reason }));
    },
  });
}
