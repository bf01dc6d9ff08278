/**
 * One node-fleet process of `bench/fanout.ts` (forked with IPC). Several run side by
 * side because this machine caps open files at 20,000 per process. See
 * fleet-protocol.ts for the conversation. Exits when the parent goes away.
 */
import { NodeFleet } from "./node-fleet.js";
import type { FromFleet, ToFleet } from "./fleet-protocol.js";

let fleet: NodeFleet | null = null;

function send(m: FromFleet): void {
  process.send?.(m);
}

function need(): NodeFleet {
  if (!fleet) throw new Error("fleet worker: init first");
  return fleet;
}

async function handle(m: ToFleet): Promise<void> {
  switch (m.type) {
    case "init":
      fleet = new NodeFleet(m);
      send({ type: "inited", ids: fleet.ids });
      return;
    case "connect": {
      const f = need();
      const startedAt = Date.now();
      f.connectAll();
      await f.until(() => f.readyCount === f.nodes.length, 600_000);
      send({ type: "connected", startedAt, doneAt: Date.now(), failures: f.failures, lastError: f.lastError });
      return;
    }
    case "ticks-start":
      need().startTicks();
      return;
    case "ticks-stop":
      send({ type: "ticks", ...need().stopTicks() });
      return;
    case "mark": {
      const f = need();
      f.mark();
      send({ type: "status", ready: f.readyCount, invokesAnswered: f.invokesAnswered, closeCodes: { ...f.closeCodes } });
      return;
    }
    case "wait-ready": {
      const f = need();
      await f.until(() => f.readySinceMark === f.nodes.length, m.timeoutMs);
      send({ type: "ready", firstAt: f.firstReadyAfterMark, doneAt: Date.now(), ready: f.readyCount, reconnects: f.reconnects, refused: f.refused, lastError: f.lastError });
      return;
    }
    case "status": {
      const f = need();
      send({ type: "status", ready: f.readyCount, invokesAnswered: f.invokesAnswered, closeCodes: { ...f.closeCodes } });
      return;
    }
    case "close-all":
      need().destroyAll();
      send({ type: "closed" });
      return;
    case "exit":
      fleet?.destroyAll();
      process.exit(0);
  }
}

process.on("message", (m: ToFleet) => {
  handle(m).catch((err: unknown) => send({ type: "fatal", message: err instanceof Error ? err.message : String(err) }));
});
process.on("disconnect", () => process.exit(0));
