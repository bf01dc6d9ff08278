/**
 * Per-record durability for persist-before-acknowledge: remembers, for each record key, the
 * write-queue generation of its last real mutation until that generation is on disk. A caller
 * about to acknowledge a record's state asks for a barrier: none when it is already durable,
 * else the (group) write that carries it — also after a failed write, whose retry must succeed
 * before the same state is acknowledged.
 */

/** The part of `PairingState` this needs. */
export interface GenerationSource {
  readonly generation: number;
  durable(gen: number): boolean;
  flushTo(gen: number): Promise<void>;
}

/** Sweep durable entries once the map reaches this size (keys that never ask for a barrier). */
const SWEEP_AT = 4096;

/** Record key → generation of its last unsynced mutation. */
export class UnsyncedRecords {
  readonly #source: GenerationSource;
  readonly #gens = new Map<string, number>();

  constructor(source: GenerationSource) {
    this.#source = source;
  }

  /** Call right after marking the state of `key` dirty. */
  note(key: string): void {
    if (this.#gens.size >= SWEEP_AT) {
      for (const [k, gen] of this.#gens) if (this.#source.durable(gen)) this.#gens.delete(k);
    }
    this.#gens.set(key, this.#source.generation);
  }

  /** Undefined when everything known about `key` is on disk, else the write that carries it. */
  barrier(key: string): Promise<void> | undefined {
    const gen = this.#gens.get(key);
    if (gen === undefined) return undefined;
    if (this.#source.durable(gen)) {
      this.#gens.delete(key);
      return undefined;
    }
    return this.#source.flushTo(gen);
  }
}
