/** Logging: pino setup, rolling file, console format, redaction, `logs.tail`. */
export * from "./log-paths.js";
export * from "./rolling-file.js";
export * from "./redact.js";
export * from "./secrets.js";
export * from "./console-pretty.js";
export * from "./logger.js";
export * from "./log-tail.js";
