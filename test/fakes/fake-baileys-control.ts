/**
 * Test side of the fake Baileys socket (fake-baileys.ts, which runs in the worker):
 * records what the fake reports and sends it commands over a BroadcastChannel.
 */
import { randomBytes } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import type { FakeCommand, FakeReport } from "./fake-baileys.js";

/** Module URL to put in `socketFactoryModule`. */
export const FAKE_BAILEYS_MODULE = new URL("./fake-baileys.ts", import.meta.url).href;

export class FakeBaileysControl {
  readonly name = `fake-baileys-${randomBytes(6).toString("hex")}`;
  readonly reports: FakeReport[] = [];
  private readonly bc = new BroadcastChannel(this.name);
  private readonly waiters = new Set<() => void>();

  constructor() {
    this.bc.onmessage = (ev: unknown) => {
      this.reports.push((ev as { data: FakeReport }).data);
      for (const w of [...this.waiters]) w();
    };
  }

  /** The worker settings that substitute the fake. */
  get workerSettings(): { socketFactoryModule: string; socketFactoryArg: string } {
    return { socketFactoryModule: FAKE_BAILEYS_MODULE, socketFactoryArg: this.name };
  }

  send(cmd: FakeCommand): void {
    this.bc.postMessage(cmd);
  }

  /** Reports of one kind. */
  of<K extends FakeReport["op"]>(op: K): Extract<FakeReport, { op: K }>[] {
    return this.reports.filter((r): r is Extract<FakeReport, { op: K }> => r.op === op);
  }

  /** Resolves when `pred` holds over the reports (re-checked on each report). */
  waitFor(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; reports: ${JSON.stringify(this.reports).slice(0, 800)}`));
      }, timeoutMs);
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Waits until `count` sockets have been created. */
  sockets(count: number): Promise<void> {
    return this.waitFor(() => this.of("created").length >= count, `${count} socket(s)`);
  }

  close(): void {
    this.bc.close();
  }
}
