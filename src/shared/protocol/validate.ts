/**
 * Typed access to the precompiled (AJV standalone) validators and the reference's
 * validation error text (§1.6). No schema is compiled at run time.
 */
import * as generated from "./generated/validators.js";
import type { ProtocolTypes } from "./generated/types.js";
import type { ProtocolSchemaName } from "./schema/index.js";

/** The shape of an AJV error object that the generated code produces. */
export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A precompiled validator: a type guard whose failures are left on `.errors`. */
export interface Validator<V> {
  (data: unknown): data is V;
  errors?: ValidationIssue[] | null;
}

type Types = ProtocolTypes;

const table = generated as unknown as Record<`validate${ProtocolSchemaName}`, Validator<unknown>>;

/** Returns the precompiled validator for a protocol definition. */
export function validator<K extends ProtocolSchemaName>(name: K): Validator<Types[K]> {
  const v = table[`validate${name}`];
  if (typeof v !== "function") throw new Error(`no generated validator for ${name}; run npm run protocol:gen`);
  return v as Validator<Types[K]>;
}

/**
 * Renders AJV errors the way the reference does: one item per error, joined with "; ",
 * de-duplicated in order; `additionalProperties` → `at <path|root>: unexpected property '<name>'`.
 */
export function formatValidationErrors(errors: readonly ValidationIssue[] | null | undefined): string {
  if (!errors || errors.length === 0) return "unknown validation error";
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const e of errors) {
    let item: string;
    if (e.keyword === "additionalProperties") {
      const extra = String(e.params.additionalProperty ?? "");
      item = `at ${e.instancePath || "root"}: unexpected property '${extra}'`;
    } else {
      const msg = e.message ?? "validation error";
      item = e.instancePath ? `at ${e.instancePath}: ${msg}` : msg;
    }
    if (!seen.has(item)) {
      seen.add(item);
      parts.push(item);
    }
  }
  return parts.join("; ");
}

/** Validates `data`; returns it typed, or the formatted error details. */
export function check<K extends ProtocolSchemaName>(
  name: K,
  data: unknown,
): { ok: true; value: Types[K] } | { ok: false; details: string } {
  const v = validator(name);
  if (v(data)) return { ok: true, value: data };
  return { ok: false, details: formatValidationErrors(v.errors) };
}
