/**
 * Hook mappings (§7.2 step 7): explicit `hooks.mappings` first, then presets (`gmail`).
 * A mapping matches on `match.path` (the sub-path under the base, slashes trimmed) and
 * `match.source` (the payload's `source` field); it turns the payload into a `wake` or an
 * `agent` action by rendering its templates.
 */
import type { HookMappingConfig } from "../../shared/config/schema/hooks.js";
import { renderTemplate, type HookTemplateContext } from "./hook-templates.js";

/** The Gmail preset (§7.2). */
export const GMAIL_PRESET: HookMappingConfig = {
  id: "gmail",
  match: { path: "gmail" },
  action: "agent",
  wakeMode: "now",
  name: "Gmail",
  sessionKey: "hook:gmail:{{messages[0].id}}",
  messageTemplate: "New email from {{messages[0].from}}\nSubject: {{messages[0].subject}}\n{{messages[0].snippet}}\n{{messages[0].body}}",
};

const PRESETS: Record<string, HookMappingConfig> = { gmail: GMAIL_PRESET };

/** Explicit mappings, then the configured presets (unknown preset names are skipped). */
export function effectiveMappings(mappings: readonly HookMappingConfig[], presets: readonly string[]): HookMappingConfig[] {
  const out = [...mappings];
  for (const p of presets) {
    const m = PRESETS[p];
    if (m !== undefined) out.push(m);
  }
  return out;
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}

/** First mapping matching `subPath` and the payload's `source`. */
export function findMapping(mappings: readonly HookMappingConfig[], subPath: string, payload: Record<string, unknown>): HookMappingConfig | undefined {
  const path = trimSlashes(subPath);
  const source = typeof payload.source === "string" ? payload.source : undefined;
  return mappings.find((m) => {
    const want = m.match?.path;
    if (want !== undefined && trimSlashes(want) !== path) return false;
    if (want === undefined && m.match?.source === undefined) return false;
    if (m.match?.source !== undefined && m.match.source !== source) return false;
    return true;
  });
}

/** A mapping rendered against a request: the body a `wake` or `agent` hook would have received. */
export type MappedAction = { action: "wake"; body: Record<string, unknown> } | { action: "agent"; body: Record<string, unknown> };

/** Renders a mapping's templates into the equivalent `/wake` or `/agent` body. */
export function renderMapping(m: HookMappingConfig, ctx: HookTemplateContext): MappedAction {
  const r = (t: string | undefined): string | undefined => (t === undefined ? undefined : renderTemplate(t, ctx));
  if ((m.action ?? "agent") === "wake") {
    return { action: "wake", body: { text: r(m.textTemplate ?? m.messageTemplate) ?? "", mode: m.wakeMode ?? "now" } };
  }
  const body: Record<string, unknown> = { message: r(m.messageTemplate ?? m.textTemplate) ?? "" };
  if (m.name !== undefined) body.name = r(m.name);
  if (m.sessionKey !== undefined) body.sessionKey = r(m.sessionKey);
  if (m.wakeMode !== undefined) body.wakeMode = m.wakeMode;
  if (m.deliver !== undefined) body.deliver = m.deliver;
  if (m.channel !== undefined) body.channel = r(m.channel);
  if (m.to !== undefined) body.to = r(m.to);
  if (m.model !== undefined) body.model = r(m.model);
  if (m.thinking !== undefined) body.thinking = r(m.thinking);
  if (m.timeoutSeconds !== undefined) body.timeoutSeconds = m.timeoutSeconds;
  return { action: "agent", body };
}

/** Applies a transform's overrides (an object) to the rendered body; `null` means skip. */
export function applyOverrides(action: MappedAction, overrides: unknown): MappedAction | null {
  if (overrides === null) return null;
  if (typeof overrides !== "object" || overrides === undefined || Array.isArray(overrides)) return action;
  return { action: action.action, body: { ...action.body, ...(overrides as Record<string, unknown>) } } as MappedAction;
}
