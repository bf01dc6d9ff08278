/**
 * Parent side of the node-fleet processes: forks them, splits the fleet, spreads each
 * process over its own source addresses, and talks to all of them at once.
 */
import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { forkTs } from "../lib/children.js";
import { split } from "../lib/load-controller.js";
import { processCpuSeconds } from "../lib/proc-stat.js";
import type { FleetInit, FromFleet, ToFleet } from "./fleet-protocol.js";

const WORKER = join(dirname(fileURLToPath(import.meta.url)), "fleet-worker.ts");

interface Worker {
  child: ChildProcess;
  inbox: FromFleet[];
  waiters: ((m: FromFleet) => void)[];
  fatal?: string;
}

/** Where the fleet connects and how it behaves. */
export interface FleetSpec extends Omit<FleetInit, "type" | "count" | "sourceIps"> {
  /** Nodes in total. */
  count: number;
  /** Fleet processes. */
  procs: number;
  /** Source addresses per process. */
  ipsPerProc: number;
}

export class FleetControl {
  private constructor(
    private readonly workers: Worker[],
    /** Node (device) ids of the whole fleet. */
    readonly ids: string[],
  ) {}

  /** Forks the processes, generates the keys; no socket is opened yet. */
  static async start(spec: FleetSpec): Promise<FleetControl> {
    const { procs, ipsPerProc, count, ...rest } = spec;
    const workers = Array.from({ length: procs }, (): Worker => {
      const child = forkTs(WORKER);
      const w: Worker = { child, inbox: [], waiters: [] };
      child.on("message", (m: FromFleet) => {
        if (m.type === "fatal") w.fatal = m.message;
        const waiter = w.waiters.shift();
        if (waiter) waiter(m);
        else w.inbox.push(m);
      });
      child.once("exit", (code, sig) => {
        w.fatal ??= `fleet process exited (code ${code}, signal ${sig})`;
        for (const waiter of w.waiters.splice(0)) waiter({ type: "fatal", message: w.fatal });
      });
      return w;
    });
    const counts = split(count, procs);
    const fc = new FleetControl(workers, []);
    const inited = await fc.all(
      (i) => ({
        type: "init",
        ...rest,
        count: counts[i] as number,
        sourceIps: Array.from({ length: ipsPerProc }, (_, k) => `127.${10 + i}.${Math.floor(k / 250)}.${1 + (k % 250)}`),
      }),
      "inited",
    );
    for (const m of inited) fc.ids.push(...m.ids);
    return fc;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid ?? -1);
  }

  /** CPU seconds used by all fleet processes so far. */
  cpuSeconds(): number {
    return this.pids.reduce((a, pid) => a + (processCpuSeconds(pid) ?? 0), 0);
  }

  /** Sends `msg(i)` to every worker and waits for one reply of type `expect` from each. */
  async all<T extends FromFleet["type"]>(msg: (i: number) => ToFleet, expect: T): Promise<Extract<FromFleet, { type: T }>[]> {
    const replies = this.workers.map((w, i) => {
      const p = this.next(w);
      w.child.send(msg(i));
      return p;
    });
    const out = await Promise.all(replies);
    for (const m of out) {
      if (m.type === "fatal") throw new Error(`fleet: ${m.message}`);
      if (m.type !== expect) throw new Error(`fleet: expected ${expect}, got ${m.type}`);
    }
    return out as Extract<FromFleet, { type: T }>[];
  }

  /** Sends a message that has no reply. */
  tell(msg: ToFleet): void {
    for (const w of this.workers) w.child.send(msg);
  }

  /** Asks every worker to exit. */
  exit(): void {
    for (const w of this.workers) if (w.child.connected) w.child.send({ type: "exit" } satisfies ToFleet);
  }

  private next(w: Worker): Promise<FromFleet> {
    const queued = w.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (w.fatal) return Promise.resolve({ type: "fatal", message: w.fatal });
    return new Promise((res) => w.waiters.push(res));
  }
}
