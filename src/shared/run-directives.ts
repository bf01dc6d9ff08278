/**
 * Directives that steer a run and its reply (the reference's directive parsing, one module
 * so the start path loads one file):
 *
 * - Thinking levels (§3.5 `thinking`, `sessions.patch` `thinkingLevel`,
 *   `agents.defaults.thinkingDefault`): how much reasoning a run asks the model for.
 *   Resolution (§11.1 step 5): the run's level → the session's → `thinkingDefault` → off.
 * - `MEDIA:<url>` reply lines (§3.8, §11): media to send with the reply.
 */
export const THINKING_LEVELS = ["off", "minimal", "low", "medium", "high", "xhigh"] as const;
export type ThinkingLevel = (typeof THINKING_LEVELS)[number];

/** Spellings the reference accepts besides the level names (`/think on`, `--thinking max`). */
const ALIASES: Readonly<Record<string, ThinkingLevel>> = {
  none: "off",
  disable: "off",
  disabled: "off",
  on: "low",
  enable: "low",
  enabled: "low",
  min: "minimal",
  mid: "medium",
  med: "medium",
  max: "high",
  highest: "high",
  "x-high": "xhigh",
  x_high: "xhigh",
};

/** The level `raw` names (case-insensitive, aliases), or undefined when it names none. */
export function normalizeThinkingLevel(raw: unknown): ThinkingLevel | undefined {
  if (typeof raw !== "string") return undefined;
  const v = raw.trim().toLowerCase();
  if ((THINKING_LEVELS as readonly string[]).includes(v)) return v as ThinkingLevel;
  return ALIASES[v];
}

/** `{thinking}` for a run request when `raw` names a level; `{}` otherwise (unknown levels ignored, as the reference's normaliser does). */
export function thinkingOption(raw: unknown): { thinking?: ThinkingLevel } {
  const level = normalizeThinkingLevel(raw);
  return level !== undefined ? { thinking: level } : {};
}

/** Anthropic `budget_tokens` per level (xhigh is served as high). */
export const THINKING_BUDGET_TOKENS: Readonly<Record<Exclude<ThinkingLevel, "off">, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 16384,
};

const DIRECTIVE = /^[ \t]*MEDIA:[ \t]*(\S+)[ \t]*$/;

/**
 * A line `MEDIA:<url>` in an agent's reply asks for that medium to be sent with the reply.
 * The directive lines leave the text; the URLs are returned in order, each once.
 */
export function splitMediaDirectives(text: string): { text: string; mediaUrls: string[] } {
  if (!text.includes("MEDIA:")) return { text, mediaUrls: [] };
  const kept: string[] = [];
  const urls: string[] = [];
  for (const line of text.split("\n")) {
    const m = DIRECTIVE.exec(line.replace(/\r$/, ""));
    if (m === null) kept.push(line);
    else if (!urls.includes(m[1]!)) urls.push(m[1]!);
  }
  return { text: kept.join("\n").replace(/\n{3,}/g, "\n\n").trim(), mediaUrls: urls };
}
