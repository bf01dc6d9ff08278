/**
 * Agent event payloads (§3.8) and the per-run emitter: `seq` strictly increases from 1 per
 * run; `ts` is epoch ms. The verbose rule (§3.8: `tool` events are relayed only when the
 * run's verbose level is on) is `shouldRelay`; the emitter itself sees every event.
 */

/** `event: "agent"` payload. */
export interface AgentEvent {
  runId: string;
  seq: number;
  stream: "lifecycle" | "assistant" | "tool";
  ts: number;
  data: Record<string, unknown>;
  sessionKey?: string;
}

/** Verbose level of a run. */
export type VerboseLevel = "off" | "on" | "full";

/** True when `ev` is relayed to clients at `verbose`: tool events only when verbose is not off. */
export function shouldRelay(ev: Pick<AgentEvent, "stream">, verbose: VerboseLevel): boolean {
  return ev.stream !== "tool" || verbose !== "off";
}

/** Stamps runId/seq/ts/sessionKey on events of one run and hands them to `sink`. */
export class RunEmitter {
  #seq = 0;

  constructor(
    readonly runId: string,
    private readonly sink: (ev: AgentEvent) => void,
    readonly sessionKey?: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Last seq emitted (0 before the first event). */
  get seq(): number {
    return this.#seq;
  }

  emit(stream: AgentEvent["stream"], data: Record<string, unknown>): void {
    const ev: AgentEvent = { runId: this.runId, seq: ++this.#seq, stream, ts: this.now(), data };
    if (this.sessionKey !== undefined) ev.sessionKey = this.sessionKey;
    this.sink(ev);
  }
}
