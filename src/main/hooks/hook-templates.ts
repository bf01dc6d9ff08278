/**
 * `{{a.b[0].c}}` templates of hook mappings (§7.2), rendered from the request context:
 * the payload's fields at the top level, plus `payload`, `headers` (lower-case names),
 * `url`, `path` and `query`.
 *
 * Lookups walk own properties only (never `__proto__`, `constructor`, prototypes): the
 * payload is untrusted JSON. A missing value renders as the empty string; an object or
 * array renders as JSON. Paths are bounded (64 segments) and the output is cut at 1 MiB.
 */

/** What templates can reference. */
export interface HookTemplateContext {
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  /** The request path with query, as sent. */
  url: string;
  /** The sub-path under the hooks base (no leading slash). */
  path: string;
  query: Record<string, string>;
}

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT = /([^.[\]]+)|\[(\d+)\]/g;
const MAX_SEGMENTS = 64;
const MAX_OUTPUT = 1024 * 1024;

function own(obj: unknown, key: string): unknown {
  if (typeof obj !== "object" || obj === null) return undefined;
  if (Array.isArray(obj)) {
    if (!/^\d+$/.test(key)) return key === "length" ? obj.length : undefined;
    return obj[Number(key)];
  }
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Reads `a.b[0].c` from `root`; undefined when any step is missing. */
export function lookupPath(root: unknown, expr: string): unknown {
  let cur: unknown = root;
  let n = 0;
  for (const m of expr.matchAll(SEGMENT)) {
    if (++n > MAX_SEGMENTS) return undefined;
    cur = own(cur, (m[1] ?? m[2])!);
    if (cur === undefined) return undefined;
  }
  return n === 0 ? undefined : cur;
}

function stringify(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v) ?? "";
}

/** Renders `template` against `ctx` (payload fields first, then the named context roots). */
export function renderTemplate(template: string, ctx: HookTemplateContext): string {
  const roots: Record<string, unknown> = { payload: ctx.payload, headers: ctx.headers, url: ctx.url, path: ctx.path, query: ctx.query };
  const out = template.replace(TOKEN, (_all, expr: string) => {
    const fromPayload = lookupPath(ctx.payload, expr);
    return stringify(fromPayload !== undefined ? fromPayload : lookupPath(roots, expr));
  });
  return out.length > MAX_OUTPUT ? out.slice(0, MAX_OUTPUT) : out;
}
