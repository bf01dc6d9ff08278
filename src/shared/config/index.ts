/** Config: paths and profiles, schema, loading, ports, reload planning, watching, writing. */
export * from "./paths.js";
export * from "./schema.js";
export * from "./defaults.js";
export * from "./validate.js";
export * from "./parse.js";
export * from "./include.js";
export * from "./env-substitution.js";
export * from "./load-config.js";
export * from "./ports.js";
export * from "./reload-plan.js";
export * from "./config-watcher.js";
export * from "./write-config.js";
