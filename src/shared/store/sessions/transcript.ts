/**
 * Transcript files (§11.3): `<sessionId>.jsonl`, header line then `message` entries chained
 * by `parentId`. A turn's messages are appended at turn end through one `AppendLog` commit
 * (one write, one fsync). Readers tolerate a torn last line and malformed lines.
 */
import { randomUUID } from "node:crypto";
import { AppendLog, readAppendLog, scanAppendLogBackwards } from "../append-log.js";
import { isMessageEntry } from "./transcript-types.js";
import type { MessageEntry, TranscriptEntry, TranscriptHeader, TranscriptMessage } from "./transcript-types.js";

/** Default and maximum messages returned by `readHistory` (§3.9). */
export const HISTORY_DEFAULT_LIMIT = 200;
export const HISTORY_MAX_LIMIT = 1000;
/** Byte budget of a history result (JSON array), §3.9: 6 MiB. */
export const HISTORY_MAX_BYTES = 6 * 1024 * 1024;

/** What `readTranscript` found. */
export interface TranscriptContents {
  header: TranscriptHeader | null;
  entries: TranscriptEntry[];
  /** Malformed lines skipped. */
  skipped: number;
  /** A torn last line was ignored. */
  tornTail: boolean;
}

function isHeader(v: unknown): v is TranscriptHeader {
  return typeof v === "object" && v !== null && (v as { type?: unknown }).type === "session";
}

/** Reads a transcript (missing file → empty). Never throws on content. */
export async function readTranscript(file: string): Promise<TranscriptContents> {
  const { records, skipped, tornTail } = await readAppendLog<unknown>(file);
  const first = records[0];
  const header = isHeader(first) ? first : null;
  const entries = (header === null ? records : records.slice(1)).filter((r): r is TranscriptEntry => typeof r === "object" && r !== null && typeof (r as { type?: unknown }).type === "string");
  return { header, entries, skipped, tornTail };
}

/** What an appender needs of a transcript, read from its end (`transcriptTail`). */
export interface TranscriptTail {
  /** No header and no entry: a missing, empty or unreadable-lines-only file. */
  empty: boolean;
  /** Id of the last entry (the next one's parentId); null when there is none. */
  lastId: string | null;
}

/** `TranscriptTail` of `file`, from its last lines (the whole file only when none is an entry). */
export async function transcriptTail(file: string): Promise<TranscriptTail> {
  const out: TranscriptTail = { empty: true, lastId: null };
  await scanAppendLogBackwards(file, (r) => {
    if (typeof r !== "object" || r === null || typeof (r as { type?: unknown }).type !== "string") return false;
    out.empty = false;
    if (isHeader(r)) return true;
    const id = (r as { id?: unknown }).id;
    if (typeof id !== "string") return false;
    out.lastId = id;
    return true;
  });
  return out;
}

/** The messages of a transcript, in order. */
export function messagesOf(entries: readonly TranscriptEntry[]): TranscriptMessage[] {
  return entries.filter(isMessageEntry).map((e) => e.message);
}

/** Options of `readHistory`. */
export interface HistoryOptions {
  /** Keep at most the last `limit` messages (clamped to 1..1000). Default 200. */
  limit?: number;
  /** Drop oldest messages until the JSON array fits. Default 6 MiB. */
  maxBytes?: number;
}

/** Keeps the last `limit` messages, then drops from the front until the JSON array is ≤ `maxBytes`. */
export function capHistory<T>(messages: readonly T[], opts: HistoryOptions = {}): T[] {
  const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? HISTORY_DEFAULT_LIMIT)), HISTORY_MAX_LIMIT);
  const maxBytes = opts.maxBytes ?? HISTORY_MAX_BYTES;
  const kept = messages.slice(-limit);
  const sizes = kept.map((m) => Buffer.byteLength(JSON.stringify(m)));
  // `[a,b,c]` = 2 brackets + items + (n-1) commas.
  let total = 2 + sizes.reduce((a, b) => a + b, 0) + Math.max(0, kept.length - 1);
  let start = 0;
  while (start < kept.length && total > maxBytes) {
    total -= sizes[start]! + (kept.length - start > 1 ? 1 : 0);
    start++;
  }
  return kept.slice(start);
}

/** `chat.history`'s reading: the session's messages, capped by count and bytes. */
export async function readHistory(file: string, opts: HistoryOptions = {}): Promise<TranscriptMessage[]> {
  return capHistory(messagesOf((await readTranscript(file)).entries), opts);
}

/** Options of `TranscriptWriter.open`. */
export interface TranscriptOpenOptions {
  sessionId: string;
  /** Recorded in the header of a new transcript (the agent workspace). */
  cwd: string;
  /** Clock (tests). Default `Date.now`. */
  now?: () => number;
}

/** Appends turns to one transcript. Open one per run; close it at the end. */
export class TranscriptWriter {
  readonly file: string;
  readonly #log: AppendLog<unknown>;
  readonly #now: () => number;
  #lastId: string | null;
  /** A new transcript's header, written with the first messages (one commit, one fsync). */
  #header: TranscriptHeader | null;
  /** Messages already in the file when it was opened (the run's context). */
  readonly history: TranscriptMessage[];

  private constructor(file: string, log: AppendLog<unknown>, lastId: string | null, history: TranscriptMessage[], now: () => number, header: TranscriptHeader | null) {
    this.file = file;
    this.#log = log;
    this.#lastId = lastId;
    this.history = history;
    this.#now = now;
    this.#header = header;
  }

  /**
   * Opens the transcript; a torn tail is repaired. A new transcript gets its header in the
   * same commit as its first messages (a turn that ends without any leaves the file empty,
   * which readers and the next open treat as new).
   */
  static async open(file: string, opts: TranscriptOpenOptions): Promise<TranscriptWriter> {
    const log = await AppendLog.open<unknown>(file);
    const contents = await readTranscript(file);
    const now = opts.now ?? Date.now;
    const header: TranscriptHeader | null =
      contents.header === null && contents.entries.length === 0 ? { type: "session", version: 3, id: opts.sessionId, timestamp: new Date(now()).toISOString(), cwd: opts.cwd } : null;
    let lastId: string | null = null;
    for (const e of contents.entries) if (typeof e.id === "string") lastId = e.id;
    return new TranscriptWriter(file, log, lastId, messagesOf(contents.entries), now, header);
  }

  /**
   * Opens the transcript to append without reading it: its last entry id comes from its end
   * (`transcriptTail`), and `history` is empty. For writers that add lines without a turn's
   * context (a delivery mirror, `chat.inject`) on the main thread.
   */
  static async openForAppend(file: string, opts: TranscriptOpenOptions): Promise<TranscriptWriter> {
    const log = await AppendLog.open<unknown>(file);
    const tail = await transcriptTail(file);
    const now = opts.now ?? Date.now;
    const header: TranscriptHeader | null = tail.empty ? { type: "session", version: 3, id: opts.sessionId, timestamp: new Date(now()).toISOString(), cwd: opts.cwd } : null;
    return new TranscriptWriter(file, log, tail.lastId, [], now, header);
  }

  /**
   * Appends `messages` as chained `message` entries in ONE durable commit; resolves with the
   * entries once they are on disk.
   */
  async appendMessages(messages: readonly TranscriptMessage[]): Promise<MessageEntry[]> {
    const entries: MessageEntry[] = [];
    let parentId = this.#lastId;
    for (const message of messages) {
      const entry: MessageEntry = { type: "message", id: randomUUID().slice(0, 8), parentId, timestamp: new Date(this.#now()).toISOString(), message };
      entries.push(entry);
      parentId = entry.id;
    }
    const header = this.#header;
    this.#header = null;
    try {
      await this.#log.appendMany(header === null ? entries : [header, ...entries]);
    } catch (err) {
      // Nothing of a failed commit stays on disk: the header goes with the next one.
      this.#header ??= header;
      throw err;
    }
    this.#lastId = parentId;
    return entries;
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return this.#log.close();
  }
}
