/** `health` and `status` (§3.2). */
import { GatewayError } from "../../shared/errors.js";
import { RawJson, type MethodTable } from "../router.js";
import { buildStatusSummary } from "../health/health-summary.js";
import { MAIN_SESSION_KEY } from "../../shared/store/sessions/sessions-info.js";
import type { GatewayContext } from "../gateway-context.js";

const STATUS_CACHE_MS = 1000;
const statusCache = new WeakMap<GatewayContext, { at: number; json: Promise<string> }>();

export function registerHealthMethods(table: MethodTable): void {
  table.add("health", undefined, ({ ctx, params }) => {
    // Served synchronously from the pre-serialised snapshot; a probe (or a cold cache)
    // waits for a fresh single-flight refresh. Either way no event is pushed to other
    // clients unless the content changed.
    if (params.probe === true || ctx.health.snapshotJson === "{}") {
      return ctx.health.refresh().then(
        (json) => new RawJson(json),
        (err: unknown) => {
          throw new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `health refresh failed: ${String(err)}`, undefined, { cause: err });
        },
      );
    }
    return new RawJson(ctx.health.snapshotJson);
  });

  table.add("status", undefined, async ({ ctx }) => {
    const now = Date.now();
    let cached = statusCache.get(ctx);
    if (!cached || now - cached.at > STATUS_CACHE_MS) {
      const json = buildStatusSummary({ stateDir: ctx.options.stateDir, sections: ctx.healthSections() }, ctx.systemEvents.peek(MAIN_SESSION_KEY)).then((s) => JSON.stringify(s));
      cached = { at: now, json };
      statusCache.set(ctx, cached);
      json.catch(() => statusCache.delete(ctx));
    }
    return new RawJson(await cached.json);
  });
}
