/**
 * HTTP on the gateway port. Probes answer here; the rest (OpenAI-compatible APIs,
 * hooks, tools, control UI) is mounted by modules (`GatewayExtras.http`) as those land.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { GatewayContext } from "../gateway-context.js";
import type { HttpMount } from "../gateway-module.js";

function json(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(body);
  });
}

export function registerHttpRoutes(app: TemplatedApp, ctx: GatewayContext, mounts: readonly HttpMount[]): void {
  app.get("/healthz", (res: HttpResponse) => {
    json(res, "200 OK", `{"ok":true,"uptimeMs":${Math.floor(process.uptime() * 1000)}}`);
  });
  app.get("/readyz", (res: HttpResponse) => {
    const ready = !ctx.shuttingDown && ctx.health.snapshotJson !== "{}";
    json(res, ready ? "200 OK" : "503 Service Unavailable", `{"ready":${ready}}`);
  });
  for (const mount of mounts) mount(app, ctx);
  app.any("/*", (res: HttpResponse, req: HttpRequest) => {
    const method = req.getMethod();
    json(res, "404 Not Found", JSON.stringify({ error: { message: `not found: ${method.toUpperCase()} ${req.getUrl()}` } }));
  });
}
