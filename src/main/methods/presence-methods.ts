/** `system-presence`, `system-event`, `last-heartbeat`, `set-heartbeats`, `wake` (§3.3). */
import { GatewayError } from "../../shared/errors.js";
import { RawJson, type MethodTable } from "../router.js";
import { nodeDeltaLine, parseSystemEvent, systemEventBoundsError } from "../presence/system-event.js";
import { MAIN_SESSION_KEY } from "../../shared/store/sessions/sessions-info.js";
import { presenceChanged } from "../gateway-context.js";

function invalid(message: string): GatewayError {
  return new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", message);
}

export function registerPresenceMethods(table: MethodTable): void {
  table.add("system-presence", undefined, ({ ctx }) => new RawJson(ctx.presence.listJson()));

  table.add("system-event", undefined, ({ ctx, params }) => {
    const tooBig = systemEventBoundsError(params);
    if (tooBig !== null) throw invalid(tooBig);
    const parsed = parseSystemEvent(params);
    if (!parsed) throw invalid("text required");
    const prev = ctx.presence.get(parsed.key);
    const prevSnapshot = prev ? { ...prev } : undefined;
    const next = ctx.presence.upsert(parsed.key, parsed.update);
    if (parsed.text.startsWith("Node:")) {
      const delta = nodeDeltaLine(prevSnapshot, next);
      if (delta) ctx.systemEvents.enqueue(MAIN_SESSION_KEY, delta);
    } else {
      ctx.systemEvents.enqueue(MAIN_SESSION_KEY, parsed.text);
    }
    presenceChanged(ctx, true);
    return { ok: true };
  });

  table.add("last-heartbeat", undefined, ({ ctx }) => ctx.lastHeartbeat ?? null);

  table.add("set-heartbeats", undefined, ({ ctx, params }) => {
    if (typeof params.enabled !== "boolean") throw invalid("invalid set-heartbeats params: enabled (boolean) required");
    ctx.heartbeatsEnabled = params.enabled;
    return { ok: true, enabled: params.enabled };
  });

  table.add("wake", undefined, ({ ctx, params }) => {
    const mode = params.mode;
    const text = typeof params.text === "string" ? params.text.trim() : "";
    if ((mode !== "now" && mode !== "next-heartbeat") || text === "") {
      throw invalid("invalid wake params: mode (now|next-heartbeat) and text required");
    }
    ctx.systemEvents.enqueue(MAIN_SESSION_KEY, text);
    return { ok: true };
  });

  table.add(
    "connect",
    undefined,
    () => {
      throw invalid("connect is only valid as the first request");
    },
    false,
  );
}
