/** `commands` (§8). */
import Type from "typebox";
import type { Static } from "typebox";

import { Bool, closed } from "./common.js";

/**
 * `commands`: `restart` is what the gateway reads (allow external SIGUSR1); the other
 * keys are the chat-command switches of clawdbot, accepted so existing files validate.
 */
export const CommandsSchema = Type.Object(
  {
    restart: Type.Optional(Bool),
    native: Type.Optional(Type.Union([Bool, Type.Literal("auto")])),
    nativeSkills: Type.Optional(Type.Union([Bool, Type.Literal("auto")])),
    text: Type.Optional(Bool),
    bash: Type.Optional(Bool),
    bashForegroundMs: Type.Optional(Type.Integer({ minimum: 0 })),
    config: Type.Optional(Bool),
    debug: Type.Optional(Bool),
    useAccessGroups: Type.Optional(Bool),
  },
  closed,
);

/** Root properties contributed by this file (spread into the root schema). */
export const commandsSection = { commands: Type.Optional(CommandsSchema) };

/** `commands` section as written. */
export type CommandsConfig = Static<typeof CommandsSchema>;

/** `commands` after defaults. */
export type CommandsResolved = CommandsConfig & { restart: boolean };
