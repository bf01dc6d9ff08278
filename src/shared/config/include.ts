/**
 * `$include` resolution (§8.1).
 *
 * Any object in the tree may carry `"$include": "<file>"` or `["<a>", "<b>"]`. Paths are
 * relative to the file that contains the directive. Included files are JSON5 and may
 * include further files (at most 10 levels; a file that includes itself, directly or
 * through others, is rejected). Merge rules, matching clawdbot:
 * - several includes merge left to right, later files win;
 * - sibling keys next to `$include` are merged over the included content;
 * - objects merge recursively, arrays concatenate, scalars are replaced.
 */
import fs from "node:fs/promises";
import path from "node:path";

import { GatewayError } from "../errors.js";
import { parseJson5 } from "./parse.js";

/** The directive key. */
export const INCLUDE_KEY = "$include";
/** Maximum nesting of included files. */
export const MAX_INCLUDE_DEPTH = 10;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge used for includes: objects recurse, arrays concatenate, `source` wins otherwise. */
export function mergeIncluded(target: unknown, source: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(source)) return [...target, ...source];
  if (isPlainObject(target) && isPlainObject(source)) {
    const out: Record<string, unknown> = { ...target };
    for (const [k, v] of Object.entries(source)) out[k] = k in out ? mergeIncluded(out[k], v) : v;
    return out;
  }
  return source;
}

function includeError(where: string, message: string, details: Record<string, unknown>, cause?: unknown): GatewayError {
  return new GatewayError(
    "GW_ERR_CONFIG_INCLUDE",
    `${where === "" ? "<root>" : where}: ${message}`,
    { path: where, ...details },
    cause === undefined ? undefined : { cause },
  );
}

interface Frame {
  /** Files on the include chain, outermost first (for cycle detection and messages). */
  chain: string[];
}

async function loadIncludedFile(file: string, where: string, frame: Frame, seen: Set<string>): Promise<unknown> {
  if (frame.chain.includes(file)) {
    const cycle = [...frame.chain, file].map((f) => path.basename(f)).join(" -> ");
    throw includeError(where, `circular $include: ${cycle}`, { file, chain: [...frame.chain, file] });
  }
  if (frame.chain.length > MAX_INCLUDE_DEPTH) {
    throw includeError(where, `$include nested deeper than ${MAX_INCLUDE_DEPTH} levels at ${file}`, {
      file,
      chain: frame.chain,
    });
  }
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw includeError(where, `cannot read $include file ${file} (${code})`, { file }, err);
  }
  seen.add(file);
  const parsed = parseJson5(text, file);
  return resolveNode(parsed, where, { chain: [...frame.chain, file] }, seen);
}

async function resolveNode(node: unknown, where: string, frame: Frame, seen: Set<string>): Promise<unknown> {
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    for (let i = 0; i < node.length; i++) out.push(await resolveNode(node[i], `${where}${where ? "." : ""}${i}`, frame, seen));
    return out;
  }
  if (!isPlainObject(node)) return node;

  const result: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === INCLUDE_KEY) continue;
    result[k] = await resolveNode(v, where === "" ? k : `${where}.${k}`, frame, seen);
  }
  if (!(INCLUDE_KEY in node)) return result;

  const spec = node[INCLUDE_KEY];
  const files = typeof spec === "string" ? [spec] : Array.isArray(spec) ? spec : undefined;
  if (files === undefined || files.length === 0 || files.some((f) => typeof f !== "string" || f === "")) {
    throw includeError(where, "$include must be a file name or a non-empty array of file names", { value: spec });
  }
  const base = path.dirname(frame.chain.at(-1) ?? ".");
  let included: unknown = {};
  for (const f of files as string[]) {
    included = mergeIncluded(included, await loadIncludedFile(path.resolve(base, f), where, frame, seen));
  }
  if (Object.keys(result).length === 0) return included;
  if (!isPlainObject(included)) {
    throw includeError(where, "keys next to $include require the included file to contain an object", {
      files,
    });
  }
  return mergeIncluded(included, result);
}

/**
 * Resolves every `$include` in `root` (parsed from `file`). Returns the merged tree and
 * the absolute paths of all included files (the watcher may watch them too). Throws
 * `GW_ERR_CONFIG_INCLUDE` (cycle, depth, unreadable file, bad directive) or
 * `GW_ERR_CONFIG_PARSE` (an included file is not valid JSON5).
 */
export async function resolveIncludes(root: unknown, file: string): Promise<{ value: unknown; files: string[] }> {
  const seen = new Set<string>();
  const value = await resolveNode(root, "", { chain: [path.resolve(file)] }, seen);
  return { value, files: [...seen] };
}
