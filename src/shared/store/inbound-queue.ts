/**
 * A per-account durable inbound queue for channel messages, on the JSONL append log.
 *
 *   accept(id, msg) ─► {t:"in"}      fsync'd BEFORE the caller acknowledges the platform
 *   markHandled(id, reply) ─► {t:"handled"}   the handler ran; its answer is kept
 *   markDone(id) ─► {t:"done"}       the reply (if any) went out
 *
 * Replay after a crash or restart (`open`): entries with `in` but no `handled` go to the
 * handler again; `handled` but not `done` only have their reply sent again (the outbox keeps
 * chunks already sent from going out twice). Dedupe: `accept` of a platform message id seen
 * before (in this file) answers false without appending, so a platform that re-delivers an
 * update whose acknowledgement was lost (Telegram after a worker died before committing its
 * offset) never reaches the handler twice.
 *
 * The dedupe window is the whole file (ids of finished entries are remembered too). The file
 * is rewritten (atomically) at open when it has no pending entries and grew past
 * `compactBytes`, keeping the last `keepIds` finished ids for dedupe.
 */
import { rename } from "node:fs/promises";
import { AppendLog, readAppendLog } from "./append-log.js";
import { writeFileAtomic } from "./atomic-json.js";

/** One line of the queue file. */
export type InboundRecord<M> =
  | { t: "in"; id: string; ts: number; msg: M }
  | { t: "handled"; id: string; reply: string | null }
  | { t: "done"; id: string };

/** An entry still owed work (replayed at open, or accepted since). */
export interface PendingInbound<M> {
  id: string;
  msg: M;
  /** Set once the handler ran: only the reply remains to be sent (null = no reply). */
  handled: { reply: string | null } | null;
}

/** Options of `InboundQueue.open`. */
export interface InboundQueueOptions {
  /** fsync each commit (default true; false only for benchmarks). */
  fsync?: boolean;
  /** Compact at open past this size when nothing is pending. Default 4 MiB. */
  compactBytes?: number;
  /** Finished ids kept for dedupe by compaction. Default 10 000. */
  keepIds?: number;
}

/** The queue of one channel account. One writer (the gateway's main thread). */
export class InboundQueue<M> {
  readonly #log: AppendLog<InboundRecord<M>>;
  /** Every id in the file (dedupe). */
  readonly #seen: Set<string>;
  readonly #pending: Map<string, PendingInbound<M>>;

  private constructor(log: AppendLog<InboundRecord<M>>, seen: Set<string>, pending: Map<string, PendingInbound<M>>) {
    this.#log = log;
    this.#seen = seen;
    this.#pending = pending;
  }

  /** Opens (creating) the queue file and rebuilds what is still pending. */
  static async open<M>(file: string, opts: InboundQueueOptions = {}): Promise<InboundQueue<M>> {
    const { records } = await readAppendLog<InboundRecord<M>>(file);
    const seen = new Set<string>();
    const order: string[] = [];
    const pending = new Map<string, PendingInbound<M>>();
    for (const r of records) {
      if (typeof r !== "object" || r === null || typeof r.id !== "string") continue;
      if (r.t === "in") {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        order.push(r.id);
        pending.set(r.id, { id: r.id, msg: r.msg, handled: null });
      } else if (r.t === "handled") {
        const p = pending.get(r.id);
        if (p) p.handled = { reply: typeof r.reply === "string" ? r.reply : null };
      } else if (r.t === "done") pending.delete(r.id);
    }
    const compactBytes = opts.compactBytes ?? 4 * 1024 * 1024;
    if (pending.size === 0 && records.length > 0) {
      const { size } = await import("node:fs/promises").then((fs) => fs.stat(file));
      if (size > compactBytes) {
        const keep = order.slice(-(opts.keepIds ?? 10_000));
        // Finished entries keep only their id (msg dropped): enough for dedupe.
        const lines = keep.map((id) => `${JSON.stringify({ t: "in", id, ts: 0, msg: null })}\n${JSON.stringify({ t: "done", id })}\n`).join("");
        await writeFileAtomic(`${file}.compact`, lines);
        await rename(`${file}.compact`, file);
        seen.clear();
        for (const id of keep) seen.add(id);
      }
    }
    const log = await AppendLog.open<InboundRecord<M>>(file, { fsync: opts.fsync });
    return new InboundQueue<M>(log, seen, pending);
  }

  /**
   * Makes `msg` durable under its platform id. Resolves true once it is on disk (acknowledge
   * the platform after that), false for an id already seen (acknowledge, do nothing).
   */
  async accept(id: string, msg: M): Promise<boolean> {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    try {
      await this.#log.append({ t: "in", id, ts: Date.now(), msg });
    } catch (err) {
      this.#seen.delete(id); // not durable: the platform re-delivers, we accept it then
      throw err;
    }
    this.#pending.set(id, { id, msg, handled: null });
    return true;
  }

  /** Records that the handler ran (before its reply is sent). */
  async markHandled(id: string, reply: string | null): Promise<void> {
    await this.#log.append({ t: "handled", id, reply });
    const p = this.#pending.get(id);
    if (p) p.handled = { reply };
  }

  /** Records that the entry is finished. */
  async markDone(id: string): Promise<void> {
    await this.#log.append({ t: "done", id });
    this.#pending.delete(id);
  }

  /** Entries still owed work, in arrival order. */
  pending(): PendingInbound<M>[] {
    return [...this.#pending.values()];
  }

  /** Number of entries still owed work. */
  get depth(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    await this.#log.close();
  }
}
