/**
 * Parent side of the load generators: forks them, splits the work, and takes
 * synchronised "marks" (cumulative completions) around each measured window.
 */
import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { forkTs } from "./children.js";
import type { FromGenerator, HandshakeSetup, RpcSetup, ToGenerator } from "./load-protocol.js";
import { processCpuSeconds } from "./proc-stat.js";

const GENERATOR = join(dirname(fileURLToPath(import.meta.url)), "load-generator.ts");

interface Gen {
  child: ChildProcess;
  pid: number;
  inbox: FromGenerator[];
  waiters: ((m: FromGenerator) => void)[];
  fatal?: string;
}

/** Cumulative counts over all generators. */
export interface Mark {
  completed: number;
  errors: number;
  lastError?: string;
}

/** Splits `total` into `n` near-equal positive parts (at least 1 each). */
export function split(total: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.max(1, Math.floor(total / n) + (i < total % n ? 1 : 0)));
}

export class LoadGenerators {
  private seq = 0;

  private constructor(private readonly gens: Gen[]) {}

  /**
   * Forks `setups.length` generators, sends each its setup and waits until all are ready
   * (connections handshaken, keys generated).
   */
  static async start(setups: (RpcSetup | HandshakeSetup)[], timeoutMs: number): Promise<LoadGenerators> {
    const gens = setups.map((): Gen => {
      const child = forkTs(GENERATOR);
      const g: Gen = { child, pid: child.pid ?? -1, inbox: [], waiters: [] };
      child.on("message", (m: FromGenerator) => {
        if (m.type === "fatal") g.fatal = m.message;
        const w = g.waiters.shift();
        if (w) w(m);
        else g.inbox.push(m);
      });
      child.once("exit", (code, sig) => {
        g.fatal ??= `load generator exited (code ${code}, signal ${sig})`;
        for (const w of g.waiters.splice(0)) w({ type: "fatal", message: g.fatal });
      });
      return g;
    });
    const lg = new LoadGenerators(gens);
    try {
      await Promise.all(
        gens.map(async (g, i) => {
          g.child.send(setups[i] as ToGenerator);
          await lg.expect(g, "ready", timeoutMs);
        }),
      );
    } catch (err) {
      await lg.close();
      throw err;
    }
    return lg;
  }

  /** Generator pids (for CPU accounting). */
  get pids(): number[] {
    return this.gens.map((g) => g.pid);
  }

  /** CPU seconds used so far by all generators. */
  cpuSeconds(): number {
    return this.gens.reduce((a, g) => a + (processCpuSeconds(g.pid) ?? 0), 0);
  }

  private next(g: Gen, timeoutMs: number): Promise<FromGenerator> {
    const queued = g.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (g.fatal && g.child.exitCode !== null) return Promise.resolve({ type: "fatal", message: g.fatal });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`load generator ${g.pid} did not answer within ${timeoutMs} ms`)), timeoutMs);
      g.waiters.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }

  private async expect<T extends FromGenerator["type"]>(g: Gen, type: T, timeoutMs: number): Promise<Extract<FromGenerator, { type: T }>> {
    for (;;) {
      const m = await this.next(g, timeoutMs);
      if (m.type === "fatal") throw new Error(`load generator ${g.pid}: ${m.message}`);
      if (m.type === type) return m as Extract<FromGenerator, { type: T }>;
    }
  }

  /** Starts the load on every generator. */
  run(): void {
    for (const g of this.gens) g.child.send({ type: "run" } satisfies ToGenerator);
  }

  /** Cumulative completions across generators, now. */
  async mark(timeoutMs = 5000): Promise<Mark> {
    const seq = ++this.seq;
    for (const g of this.gens) g.child.send({ type: "mark", seq } satisfies ToGenerator);
    const marks = await Promise.all(this.gens.map((g) => this.expect(g, "mark", timeoutMs)));
    return sum(marks);
  }

  /** Stops issuing work and waits for in-flight work to finish. */
  async stop(timeoutMs = 15_000): Promise<Mark> {
    for (const g of this.gens) g.child.send({ type: "stop" } satisfies ToGenerator);
    return sum(await Promise.all(this.gens.map((g) => this.expect(g, "stopped", timeoutMs))));
  }

  /** Asks generators to close their sockets and exit; kills stragglers. */
  async close(timeoutMs = 5000): Promise<void> {
    await Promise.all(
      this.gens.map(
        (g) =>
          new Promise<void>((res) => {
            if (g.child.exitCode !== null || g.child.signalCode !== null) return res();
            const t = setTimeout(() => {
              g.child.kill("SIGKILL");
              res();
            }, timeoutMs);
            g.child.once("exit", () => {
              clearTimeout(t);
              res();
            });
            if (g.child.connected) g.child.send({ type: "exit" } satisfies ToGenerator);
            else g.child.kill("SIGTERM");
          }),
      ),
    );
  }
}

function sum(ms: { completed: number; errors: number; lastError?: string }[]): Mark {
  return {
    completed: ms.reduce((a, m) => a + m.completed, 0),
    errors: ms.reduce((a, m) => a + m.errors, 0),
    lastError: ms.find((m) => m.lastError)?.lastError,
  };
}
