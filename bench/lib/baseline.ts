/** Parent side of the uWS baseline server (see uws-baseline-server.ts). */
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { forkTs } from "./children.js";
import type { CapturedFrames } from "./capture.js";
import type { BaselineConfig, BaselineReply } from "./uws-baseline-server.js";

const SERVER = join(dirname(fileURLToPath(import.meta.url)), "uws-baseline-server.ts");

export interface Baseline {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Forks the baseline server answering with `frames`; resolves once it listens. */
export async function startBaseline(frames: CapturedFrames, timeoutMs = 30_000): Promise<Baseline> {
  const child = forkTs(SERVER);
  const cfg: BaselineConfig = {
    type: "baseline-config",
    challenge: JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: randomUUID(), ts: Date.now() } }),
    hello: frames.hello,
    responses: frames.responses,
  };
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`baseline did not start within ${timeoutMs} ms`)), timeoutMs);
    child.on("message", (m: BaselineReply) => {
      clearTimeout(t);
      if (m.type === "baseline-listening") resolve(m.port);
      else reject(new Error(`baseline: ${m.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`baseline exited (code ${code})`));
    });
    child.send(cfg);
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          res();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          res();
        });
        child.disconnect();
      }),
  };
}
