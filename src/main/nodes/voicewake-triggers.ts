/**
 * Wake words pushed to every node on connect as `voicewake.changed {triggers}` (§2.9,
 * §4.1). Stored in `<stateDir>/settings/voicewake.json` (`{triggers, updatedAtMs}`);
 * read once at start (never per connect), defaults until then and when the file is
 * missing or malformed. The event frame is serialised once per change, so a connect
 * storm sends the same string to every node.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeEventRaw } from "../socket/frames.js";

/** Appendix C: `voicewake` defaults. */
export const DEFAULT_VOICEWAKE_TRIGGERS: readonly string[] = Object.freeze(["clawd", "claude", "computer"]);

const MAX_TRIGGERS = 32;
const MAX_TRIGGER_LENGTH = 64;

/** Trims, drops empties and over-long entries, keeps at most 32; falls back to the defaults when nothing is left. */
export function normalizeTriggers(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [...DEFAULT_VOICEWAKE_TRIGGERS];
  const out: string[] = [];
  for (const t of raw) {
    if (typeof t !== "string") continue;
    const s = t.trim();
    if (s && s.length <= MAX_TRIGGER_LENGTH) out.push(s);
    if (out.length >= MAX_TRIGGERS) break;
  }
  return out.length > 0 ? out : [...DEFAULT_VOICEWAKE_TRIGGERS];
}

/** The current wake words and their pre-serialised `voicewake.changed` frame. */
export class VoiceWakeTriggers {
  private current: string[] = [...DEFAULT_VOICEWAKE_TRIGGERS];
  private frame = encodeEventRaw("voicewake.changed", JSON.stringify({ triggers: this.current }));

  /** The current triggers. */
  get triggers(): readonly string[] {
    return this.current;
  }

  /** The `voicewake.changed` unicast frame (no seq). */
  get eventFrame(): string {
    return this.frame;
  }

  /** Replaces the triggers (e.g. after `voicewake.set`). */
  set(triggers: readonly string[]): void {
    this.current = normalizeTriggers(triggers);
    this.frame = encodeEventRaw("voicewake.changed", JSON.stringify({ triggers: this.current }));
  }

  /** Loads `<stateDir>/settings/voicewake.json` if present; keeps the defaults otherwise. */
  async load(stateDir: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(stateDir, "settings", "voicewake.json"), "utf8");
    } catch {
      return;
    }
    try {
      const parsed = JSON.parse(text) as { triggers?: unknown };
      this.set(normalizeTriggers(parsed.triggers));
    } catch {
      // Malformed: keep the defaults, as the reference does.
    }
  }
}
