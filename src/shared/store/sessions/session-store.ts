/**
 * Per-agent session store (§3.10, §11.1): `<stateDir>/agents/<agentId>/sessions/sessions.json`,
 * a JSON object `canonical key → SessionEntry`, kept in memory and persisted write-behind
 * (atomic temp + fsync + rename; `flush()` before acknowledging). Transcripts live beside it
 * as `<sessionId>.jsonl`.
 *
 * One owner per store file: every mutation of a given store must go through one instance
 * (the gateway keeps it on one thread); two writers would overwrite each other's entries.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { GatewayError } from "../../errors.js";
import { readJsonFile, removeStaleTempFiles } from "../atomic-json.js";
import { JsonFileWriter, SerialisedJson } from "../write-behind.js";
import { isValidAgentId, isValidSessionId } from "./session-key.js";
import type { Usage } from "./transcript-types.js";

/** A session entry (store value). Only the fields the runtime writes are typed; others are kept verbatim. */
export interface SessionEntry {
  sessionId: string;
  updatedAt: number;
  sessionFile?: string;
  label?: string;
  thinkingLevel?: string;
  verboseLevel?: string;
  modelProvider?: string;
  model?: string;
  contextTokens?: number;
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  abortedLastRun?: boolean;
  systemSent?: boolean;
  [key: string]: unknown;
}

/** What a finished turn records on its session entry (§11.4). */
export interface TurnRecord {
  provider: string;
  model: string;
  usage?: Pick<Usage, "input" | "output" | "totalTokens">;
  contextTokens?: number;
  aborted?: boolean;
}

/** Options of `SessionStore.open`. */
export interface SessionStoreOptions {
  /** State dir (`~/.clawdbot`). */
  stateDir: string;
  /** Agent owning the store. */
  agentId: string;
  /** `session.store` path template (`{agentId}` placeholder). Default `<stateDir>/agents/{agentId}/sessions/sessions.json`. */
  storePath?: string;
  /** Clock (tests). Default `Date.now`. */
  now?: () => number;
}

const EMPTY = Buffer.from("{}\n");
const OPEN = Buffer.from("{\n");
const SEP = Buffer.from(",\n");
const CLOSE = Buffer.from("\n}\n");

/** Share of the owning thread that rewriting sessions.json may take under a stream of changes. */
const SERIALISE_SHARE = 0.1;

function isEntryMap(v: unknown): v is Record<string, SessionEntry> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((e) => typeof e === "object" && e !== null && typeof (e as SessionEntry).sessionId === "string");
}

/** The sessions of one agent. */
export class SessionStore {
  readonly agentId: string;
  /** Path of `sessions.json`. */
  readonly path: string;
  /** Directory of the transcripts. */
  readonly dir: string;
  readonly #entries: Map<string, SessionEntry>;
  /** Each entry's slice of the file (`  "key": {…}` in UTF-8), made once per entry object: entries are replaced, never mutated, on change. */
  readonly #serialised = new WeakMap<SessionEntry, { key: string; bytes: Buffer }>();
  readonly #writer: JsonFileWriter;
  readonly #now: () => number;

  private constructor(agentId: string, path: string, entries: Record<string, SessionEntry>, now: () => number) {
    this.agentId = agentId;
    this.path = path;
    this.dir = join(path, "..");
    this.#entries = new Map(Object.entries(entries));
    this.#now = now;
    // Paced: with thousands of sessions the file is megabytes, and runs starting and ending
    // back to back would otherwise rewrite it continuously on the gateway's main thread.
    this.#writer = new JsonFileWriter(path, () => this.#serialise(), { maxBusyShare: SERIALISE_SHARE });
  }

  /**
   * The file's bytes, as `JSON.stringify(entries, null, 2)` would print them, from cached
   * per-entry UTF-8 slices: a write serialises only the entries that changed since the last
   * one and copies the rest (no string is built, flattened or encoded for the whole file), so
   * the main thread's cost per write barely grows with every session ever created.
   */
  #serialise(): SerialisedJson {
    if (this.#entries.size === 0) return new SerialisedJson(EMPTY);
    const parts: Buffer[] = [OPEN];
    let first = true;
    for (const [key, entry] of this.#entries) {
      let s = this.#serialised.get(entry);
      if (s === undefined || s.key !== key) {
        s = { key, bytes: Buffer.from(`  ${JSON.stringify(key)}: ${JSON.stringify(entry, null, 2).replaceAll("\n", "\n  ")}`) };
        this.#serialised.set(entry, s);
      }
      if (!first) parts.push(SEP);
      first = false;
      parts.push(s.bytes);
    }
    parts.push(CLOSE);
    return new SerialisedJson(Buffer.concat(parts));
  }

  /** Loads (or starts) the store of `agentId`. A corrupt file is moved aside, not fatal. */
  static async open(opts: SessionStoreOptions): Promise<SessionStore> {
    if (!isValidAgentId(opts.agentId)) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid agent id "${opts.agentId}"`);
    const path = opts.storePath?.replaceAll("{agentId}", opts.agentId) ?? join(opts.stateDir, "agents", opts.agentId, "sessions", "sessions.json");
    await removeStaleTempFiles(path);
    const entries = await readJsonFile(path, { fallback: () => ({}), validate: isEntryMap, onCorrupt: "quarantine" });
    return new SessionStore(opts.agentId, path, entries, opts.now ?? Date.now);
  }

  /** The entry of a canonical key. */
  get(key: string): SessionEntry | undefined {
    return this.#entries.get(key);
  }

  /** All `[key, entry]` pairs, most recently updated first. */
  list(): [string, SessionEntry][] {
    return [...this.#entries].sort((a, b) => b[1].updatedAt - a[1].updatedAt);
  }

  /**
   * The entry for a run on `key`: the existing one, or a new one with a fresh UUID sessionId
   * (`sessionId` given → that id wins, §11.1). Persisted write-behind.
   */
  resolveForRun(key: string, sessionId?: string): { entry: SessionEntry; created: boolean } {
    if (sessionId !== undefined && !isValidSessionId(sessionId)) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `invalid sessionId "${sessionId}"`);
    const existing = this.#entries.get(key);
    if (existing !== undefined && (sessionId === undefined || existing.sessionId === sessionId)) return { entry: existing, created: false };
    const entry: SessionEntry = { ...existing, sessionId: sessionId ?? randomUUID(), updatedAt: this.#now() };
    this.#entries.set(key, entry);
    this.#writer.schedule();
    return { entry, created: existing === undefined };
  }

  /** Applies `patch` to the entry of `key` (which must exist); `undefined` values delete fields. */
  patch(key: string, patch: Partial<SessionEntry>): SessionEntry {
    const cur = this.#entries.get(key);
    if (cur === undefined) throw new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", `No session found: ${key}`);
    const next: SessionEntry = { ...cur, ...patch, updatedAt: this.#now() };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
    this.#entries.set(key, next);
    this.#writer.schedule();
    return next;
  }

  /** Records a finished turn: model, provider, token counters, `abortedLastRun`, `updatedAt` (§11.4). */
  recordTurn(key: string, turn: TurnRecord): SessionEntry {
    const patch: Partial<SessionEntry> = { modelProvider: turn.provider, model: turn.model, abortedLastRun: turn.aborted === true, systemSent: true };
    if (turn.contextTokens !== undefined) patch.contextTokens = turn.contextTokens;
    if (turn.usage !== undefined) {
      patch.inputTokens = turn.usage.input;
      patch.outputTokens = turn.usage.output;
      patch.totalTokens = turn.usage.totalTokens;
    }
    return this.patch(key, patch);
  }

  /** Removes the entry of `key`; returns it. */
  delete(key: string): SessionEntry | undefined {
    const cur = this.#entries.get(key);
    if (cur !== undefined) {
      this.#entries.delete(key);
      this.#writer.schedule();
    }
    return cur;
  }

  /** Transcript path of an entry: `sessionFile` when set, else `<dir>/<sessionId>.jsonl`. */
  transcriptPath(entry: SessionEntry): string {
    if (typeof entry.sessionFile === "string" && entry.sessionFile !== "") return entry.sessionFile;
    if (!isValidSessionId(entry.sessionId)) throw new GatewayError("GW_ERR_STORE_CORRUPT", `session id "${entry.sessionId}" is not a safe file name`, { path: this.path });
    return join(this.dir, `${entry.sessionId}.jsonl`);
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Flushes and stops retry timers. */
  close(): Promise<void> {
    return this.#writer.close();
  }
}
