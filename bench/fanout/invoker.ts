/**
 * The operator side of the `node.invoke` measurement: one token-authenticated operator
 * connection keeps `concurrency` invokes in flight, each to a random node of the fleet
 * (`system.run`, small params), and records every round trip (operator → gateway →
 * node.invoke.request → node → node.invoke.result → gateway → operator).
 */
import { performance } from "node:perf_hooks";
import { GatewayConnection, parseWsUrl, upgradeRequest } from "../lib/raw-ws.js";
import { tokenConnectFrame } from "../lib/connect-frames.js";
import { OP_TEXT, isOkRes, isResFrame, maskedText } from "../../test/helpers/ws-frames.js";

export interface InvokeResult {
  count: number;
  errors: number;
  lastError?: string;
  seconds: number;
  /** Round trips in ms, in completion order. */
  rttMs: number[];
}

const ID = /"id":"i(\d+)"/;

/** Runs `count` invokes with `concurrency` in flight against random `nodeIds`. */
export async function runInvokes(url: string, token: string, nodeIds: readonly string[], count: number, concurrency: number, timeoutMs = 120_000): Promise<InvokeResult> {
  const target = parseWsUrl(url);
  const conn = await GatewayConnection.open(target, { upgrade: upgradeRequest(target), connectFrame: tokenConnectFrame({ id: "cli", mode: "cli" }, token), timeoutMs: 10_000 });
  const started = new Map<number, number>();
  const rttMs: number[] = [];
  let sent = 0;
  let done = 0;
  let errors = 0;
  let lastError: string | undefined;
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`invokes: ${done}/${count} done after ${timeoutMs} ms`)), timeoutMs);
      const sendOne = (): void => {
        const i = sent++;
        const nodeId = nodeIds[Math.floor(Math.random() * nodeIds.length)] as string;
        started.set(i, performance.now());
        conn.socket.write(
          maskedText(`{"type":"req","id":"i${i}","method":"node.invoke","params":{"nodeId":"${nodeId}","command":"system.run","params":{"command":["true"]},"timeoutMs":30000,"idempotencyKey":"k${i}"}}`),
        );
      };
      conn.onClosed = (err) => reject(new Error(`operator connection closed: ${err?.message ?? "by the gateway"}`));
      conn.onFrame = (op, _fin, data) => {
        if (op !== OP_TEXT || !isResFrame(data)) return;
        const m = ID.exec(data.toString("latin1", 0, Math.min(data.length, 96)));
        if (!m) return;
        const i = Number(m[1]);
        const at = started.get(i);
        if (at === undefined) return;
        started.delete(i);
        rttMs.push(performance.now() - at);
        if (!isOkRes(data)) {
          errors++;
          lastError = data.toString("utf8").slice(0, 300);
        }
        done++;
        if (done === count) {
          clearTimeout(timer);
          resolve();
        } else if (sent < count) sendOne();
      };
      for (let k = 0; k < Math.min(concurrency, count); k++) sendOne();
    });
  } finally {
    await conn.close();
  }
  return { count, errors, lastError, seconds: (performance.now() - t0) / 1000, rttMs };
}
