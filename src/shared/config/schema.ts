/**
 * Former location of the config schema, kept so existing imports resolve: the schema is
 * now one file per section under `schema/` (see `schema/index.ts`).
 */
export * from "./schema/index.js";
