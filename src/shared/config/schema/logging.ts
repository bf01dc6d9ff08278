/** `logging` (§8): file and console sinks, rotation, redaction. */
import Type from "typebox";
import type { Static } from "typebox";

import { closed, Str } from "./common.js";

/** pino level names accepted in config (`silent` disables a sink). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const LoggingSchema = Type.Object(
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

/** Root properties contributed by this file (spread into the root schema). */
export const loggingSection = { logging: Type.Optional(LoggingSchema) };

/** `logging` section as written. */
export type LoggingConfig = Static<typeof LoggingSchema>;
/** A pino level name (or `silent`). */
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** `logging` after defaults: the defaulted keys are present. */
export type LoggingResolved = LoggingConfig & {
  level: LogLevelName;
  maxFileBytes: number;
  maxFiles: number;
  redactSensitive: "off" | "tools";
  redactPatterns: string[];
};
