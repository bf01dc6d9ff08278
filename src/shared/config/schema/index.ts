/**
 * TypeBox schema of the whole config file (`clawdbot.json`, §8), assembled from one file
 * per section.
 *
 * The root and the sections the gateway core owns (`gateway`, `canvasHost`, `logging`,
 * `commands`) are closed objects: unknown keys are errors. Root keys owned by later work
 * (agents, channels, models, …) are loose objects (`loose.ts`) until their owner adds a
 * section file. Adding a section: write `<section>.ts` exporting `<name>Section =
 * { <key>: Type.Optional(<Schema>) }`, add one `...<name>Section,` line below, then run
 * `npm run config:gen` (the validator is precompiled; see `validate.ts`).
 */
import Type from "typebox";
import type { Static, TSchema } from "typebox";

import { closed } from "./common.js";
import { browserSection } from "./browser.js";
import { canvasHostSection } from "./canvas-host.js";
import { commandsSection } from "./commands.js";
import { gatewaySection } from "./gateway.js";
import { hooksSection } from "./hooks.js";
import { loggingSection } from "./logging.js";
import { looseSections } from "./loose.js";
import { metaSection } from "./meta.js";

type Props = Record<string, TSchema>;
type Flatten<T> = { [K in keyof T]: T[K] };
/** `typed`, then every loose key that no section file defines, in their original order. */
type WithLoose<T extends Props> = Flatten<T & Omit<typeof looseSections, keyof T>>;

function withLoose<T extends Props>(typed: T): WithLoose<T> {
  const out: Props = { ...typed };
  for (const [key, schema] of Object.entries(looseSections)) if (!(key in out)) out[key] = schema;
  return out as WithLoose<T>;
}

/** The whole config file. Unknown top-level keys are errors. */
export const ConfigSchema = Type.Object(
  withLoose({
    ...metaSection,
    ...gatewaySection,
    ...canvasHostSection,
    ...loggingSection,
    ...commandsSection,
    ...browserSection,
    ...hooksSection,
  }),
  closed,
);

/** The config file as written (every key optional). */
export type ClawdbotConfig = Static<typeof ConfigSchema>;

export { LOG_LEVELS } from "./logging.js";
export type { LoggingConfig, LogLevelName } from "./logging.js";
export type { GatewayConfig, ReloadMode, BindMode } from "./gateway.js";
export type { CanvasHostConfig } from "./canvas-host.js";
export type { CommandsConfig } from "./commands.js";
