/**
 * `GET /metrics`: Prometheus text exposition (docs/metrics.md), mounted with the probes
 * (first in the table, so a root Control UI never shadows it) while `gateway.metrics.enabled`
 * (default true). Behind the gateway's shared auth (`Authorization: Bearer <token or
 * password>`) unless `gateway.metrics.public` is true.
 *
 * `prom-client` is loaded at the first scrape (dynamic import in metrics-registry.ts), so a
 * gateway that is never scraped never loads it. Concurrent first scrapes share one load.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type { GatewayContext } from "../gateway-context.js";
import type { HttpMountTable } from "./mount-table.js";
import { requireBearer } from "./bearer-auth.js";
import { endOnce, trackResponse } from "./response-state.js";
import type { MetricsRegistry } from "../metrics/metrics-registry.js";

/** Mounts `/metrics`; returns a function that releases the registry (event-loop monitor). */
export function mountMetrics(table: HttpMountTable, ctx: GatewayContext): () => void {
  let loading: Promise<MetricsRegistry> | null = null;
  let loaded: MetricsRegistry | null = null;
  const load = (): Promise<MetricsRegistry> => {
    loading ??= import("../metrics/metrics-registry.js")
      .then((m) => m.createMetricsRegistry({ registry: ctx.registry, healthSections: ctx.healthSections }))
      .then((reg) => (loaded = reg));
    loading.catch(() => (loading = null));
    return loading;
  };
  table.mount({
    stage: "probes",
    path: { exact: "/metrics" },
    methods: ["GET"],
    enabled: () => ctx.options.metrics?.enabled ?? true,
    handler: async (res: HttpResponse, req: HttpRequest) => {
      const state = trackResponse(res);
      if (!(ctx.options.metrics?.public ?? false) && !requireBearer(res, req, { expect: () => ({ auth: ctx.options.auth }), style: "json", query: "ignore" })) return;
      const reg = loaded ?? (await load());
      const text = await reg.scrape();
      endOnce(res, state, "200 OK", { "Content-Type": reg.contentType, "Cache-Control": "no-store" }, text);
    },
  });
  return () => loaded?.close();
}
