/**
 * Operator messages for a config that failed validation, from TypeBox's errors:
 * `gateway.port: expected integer 1..65535, got "abc"`.
 *
 * This module loads the TypeBox schema; `validate.ts` imports it only when a config
 * fails its precompiled check, so a valid config never pays for it at start-up.
 */
import type { TLocalizedValidationError } from "typebox/error";
import { Settings } from "typebox/system";
import { Errors } from "typebox/value";

import { ConfigSchema } from "./schema/index.js";
import type { ConfigIssue } from "./config-issue.js";

type JsonSchema = Record<string, unknown>;

/** `/gateway/port` → `gateway.port` (JSON-pointer unescaping included). */
export function pointerToDotted(pointer: string): string {
  if (pointer === "" || pointer === "#") return "";
  return pointer
    .replace(/^#?\//, "")
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function walk(root: unknown, pointer: string): unknown {
  if (pointer === "" || pointer === "#") return root;
  let cur: unknown = root;
  for (const raw of pointer.replace(/^#?\//, "").split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function range(s: JsonSchema): string {
  const min = typeof s.minimum === "number" ? s.minimum : undefined;
  const max = typeof s.maximum === "number" ? s.maximum : undefined;
  if (min !== undefined && max !== undefined) return ` ${min}..${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return "";
}

/** A short human description of what a schema accepts. */
export function describeSchema(schema: unknown): string {
  if (typeof schema !== "object" || schema === null) return "a valid value";
  const s = schema as JsonSchema;
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) {
    const parts = (s.anyOf as unknown[]).map(describeSchema);
    return parts.length === 1 ? (parts[0] ?? "a valid value") : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;
  }
  switch (s.type) {
    case "integer":
      return `integer${range(s)}`;
    case "number":
      return `number${range(s)}`;
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "array": {
      const items = describeSchema(s.items);
      return items === "string" ? "array of strings" : `array of ${items}`;
    }
    case "object":
      return "object";
    default:
      return "a valid value";
  }
}

/** `"abc"`, `12`, `true`, `null`, `an object`, `an array` — shortened for messages. */
export function describeValue(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  if (v === undefined) return "nothing";
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function allowedKeys(schema: unknown): string {
  const props = (schema as JsonSchema | undefined)?.properties;
  return typeof props === "object" && props !== null ? Object.keys(props).join(", ") : "";
}

/** Translates raw TypeBox errors into deduplicated, path-named issues. */
export function formatSchemaErrors(errors: readonly TLocalizedValidationError[], value: unknown): ConfigIssue[] {
  // Errors inside an anyOf branch are noise once the anyOf itself is reported.
  const unionPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => `${e.schemaPath}/anyOf/`);
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string): void => {
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path, message, code: "GW_ERR_CONFIG_INVALID" });
  };
  for (const e of errors) {
    if (unionPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    // `additionalProperties: false` also yields a "schema is false" error per key; the
    // additionalProperties error (reported below) already names every key.
    if (e.keyword === "boolean" && e.schemaPath.endsWith("/additionalProperties")) continue;
    const path = pointerToDotted(e.instancePath);
    const schema = walk(ConfigSchema, e.schemaPath);
    if (e.keyword === "additionalProperties") {
      for (const key of e.params.additionalProperties) {
        const where = path === "" ? key : `${path}.${key}`;
        push(where, `unknown key ${JSON.stringify(key)} (allowed: ${allowedKeys(schema)})`);
      }
      continue;
    }
    if (e.keyword === "required") {
      const keys = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      push(path, `missing required ${keys.map((k) => JSON.stringify(k)).join(", ")}`);
      continue;
    }
    push(path, `expected ${describeSchema(schema)}, got ${describeValue(walk(value, e.instancePath))}`);
  }
  return out;
}

/** Most raw errors gathered for one file (TypeBox buffers only 8 by default). */
const MAX_RAW_ERRORS = 64;

/**
 * Gathers errors with a higher buffer than TypeBox's global default. The setting is
 * process-global, so it is raised only for this synchronous call and restored. `Errors`
 * interprets the schema (what a compiled TypeBox validator's `Errors` does too): nothing
 * is compiled.
 */
function collectErrors(value: unknown): TLocalizedValidationError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: Math.max(previous, MAX_RAW_ERRORS) });
  try {
    return Errors(ConfigSchema, value);
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

/**
 * Explains why a config object failed the precompiled check: dotted paths and operator
 * messages, never empty.
 */
export function explainConfigErrors(value: unknown): ConfigIssue[] {
  const issues = formatSchemaErrors(collectErrors(value), value);
  if (issues.length === 0) issues.push({ path: "", message: "invalid config", code: "GW_ERR_CONFIG_INVALID" });
  return issues;
}

