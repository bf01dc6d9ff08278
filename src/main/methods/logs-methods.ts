/**
 * `logs.tail` (§3.12): a byte-cursor window over the gateway's log file, read with
 * `readLogTail`. The file is `ctx.options.logFile` (`logging.file`) when set, else
 * today's rolling file (or the newest one) — resolved on every call, so a hot reload of
 * `logging.file` and the daily roll-over are both picked up without a restart.
 */
import { GatewayError } from "../../shared/errors.js";
import { readLogTail, resolveLogTailFile } from "../../shared/log/log-tail.js";
import type { MethodTable } from "../router.js";

/** Registers `logs.tail`. Read failures surface as `UNAVAILABLE "log read failed: …"`. */
export function registerLogsMethods(table: MethodTable): void {
  table.add("logs.tail", "LogsTailParams", async ({ ctx, params }) => {
    const file = await resolveLogTailFile({ file: ctx.options.logFile });
    try {
      return await readLogTail({ file, cursor: params.cursor, limit: params.limit, maxBytes: params.maxBytes });
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", `log read failed: ${(err as Error).message}`, { file }, { cause: err });
    }
  });
}
