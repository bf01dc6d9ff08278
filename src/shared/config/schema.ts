/**
 * TypeBox schema of the whole config file (`clawdbot.json`, §8).
 *
 * The root and the sections the gateway core owns (`gateway`, `canvasHost`,
 * `logging`, `commands`) are closed objects: unknown keys are errors. Sections owned by
 * later work (agents, channels, models, …) are loose objects for now; their owners
 * tighten them. Validation goes through one compiled validator (see `validate.ts`).
 */
import Type from "typebox";
import type { Static } from "typebox";

import { closed, GatewaySchema, PortSchema } from "./schema-gateway.js";
import { HooksSchema } from "./schema/hooks.js";

/** pino level names accepted in config (`silent` disables a sink). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const Str = Type.String();
const Bool = Type.Boolean();
/** A section whose keys belong to later work: any object. */
const Loose = Type.Record(Type.String(), Type.Unknown());

const CanvasHostSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    root: Type.Optional(Str),
    port: Type.Optional(PortSchema),
    liveReload: Type.Optional(Bool),
  },
  closed,
);

const LoggingSchema = Type.Object(
  {
    level: Type.Optional(Type.Enum([...LOG_LEVELS])),
    file: Type.Optional(Str),
    maxFileBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    maxFiles: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    consoleLevel: Type.Optional(Type.Enum([...LOG_LEVELS])),
    consoleStyle: Type.Optional(Type.Enum(["pretty", "compact", "json"])),
    redactSensitive: Type.Optional(Type.Enum(["off", "tools"])),
    redactPatterns: Type.Optional(Type.Array(Str)),
  },
  closed,
);

/**
 * `commands`: `restart` is what the gateway reads (allow external SIGUSR1); the other
 * keys are the chat-command switches of clawdbot, accepted so existing files validate.
 */
const CommandsSchema = Type.Object(
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

/** `browser`: typed where the gateway derives ports from it, otherwise open. */
const BrowserSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    controlUrl: Type.Optional(Str),
    controlToken: Type.Optional(Str),
    cdpUrl: Type.Optional(Str),
  },
  { additionalProperties: true },
);

const MetaSchema = Type.Object(
  {
    lastTouchedVersion: Type.Optional(Str),
    lastTouchedAt: Type.Optional(Str),
  },
  { additionalProperties: true },
);

/** The whole config file. Unknown top-level keys are errors. */
export const ConfigSchema = Type.Object(
  {
    meta: Type.Optional(MetaSchema),
    gateway: Type.Optional(GatewaySchema),
    canvasHost: Type.Optional(CanvasHostSchema),
    logging: Type.Optional(LoggingSchema),
    commands: Type.Optional(CommandsSchema),
    browser: Type.Optional(BrowserSchema),
    bindings: Type.Optional(Type.Array(Type.Unknown())),
    hooks: Type.Optional(HooksSchema),
    session: Type.Optional(Loose),
    agents: Type.Optional(Loose),
    agent: Type.Optional(Loose),
    models: Type.Optional(Loose),
    channels: Type.Optional(Loose),
    web: Type.Optional(Loose),
    cron: Type.Optional(Loose),
    plugins: Type.Optional(Loose),
    discovery: Type.Optional(Loose),
    identity: Type.Optional(Loose),
    wizard: Type.Optional(Loose),
    tools: Type.Optional(Loose),
    audio: Type.Optional(Loose),
    media: Type.Optional(Loose),
    routing: Type.Optional(Loose),
    messages: Type.Optional(Loose),
    talk: Type.Optional(Loose),
    skills: Type.Optional(Loose),
    ui: Type.Optional(Loose),
    env: Type.Optional(Loose),
    auth: Type.Optional(Loose),
    diagnostics: Type.Optional(Loose),
    update: Type.Optional(Loose),
    nodeHost: Type.Optional(Loose),
    broadcast: Type.Optional(Loose),
    approvals: Type.Optional(Loose),
    memory: Type.Optional(Loose),
  },
  closed,
);

/** The config file as written (every key optional). */
export type ClawdbotConfig = Static<typeof ConfigSchema>;
/** `gateway` section as written. */
export type GatewayConfig = NonNullable<ClawdbotConfig["gateway"]>;
/** `logging` section as written. */
export type LoggingConfig = NonNullable<ClawdbotConfig["logging"]>;
/** `canvasHost` section as written. */
export type CanvasHostConfig = NonNullable<ClawdbotConfig["canvasHost"]>;
/** `commands` section as written. */
export type CommandsConfig = NonNullable<ClawdbotConfig["commands"]>;
/** A pino level name (or `silent`). */
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** `gateway.reload.mode`. */
export type ReloadMode = NonNullable<NonNullable<GatewayConfig["reload"]>["mode"]>;
/** `gateway.bind`. */
export type BindMode = NonNullable<GatewayConfig["bind"]>;
