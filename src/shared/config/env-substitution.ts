/**
 * `${UPPER_CASE_VAR}` substitution in every string value of a config tree (§8.1).
 *
 * - Only upper-case names (`[A-Z_][A-Z0-9_]*`) are variables; `${lower}` stays as is.
 * - A missing or empty variable is an error naming the variable and the config path.
 * - `$${VAR}` is the escape: it yields the literal text `${VAR}`.
 * Keys are never substituted, only string values (inside objects and arrays).
 */
import type { Env } from "./paths.js";
import type { ConfigIssue } from "./validate.js";

const VAR_RE = /\$?\$\{([A-Z_][A-Z0-9_]*)\}/g;

function joinPath(base: string, key: string | number): string {
  return base === "" ? String(key) : `${base}.${key}`;
}

/** Substitutes one string; reports missing variables through `missing`. */
export function substituteString(text: string, env: Env, missing: (name: string) => void): string {
  if (!text.includes("${")) return text;
  return text.replace(VAR_RE, (match: string, name: string) => {
    if (match.startsWith("$$")) return match.slice(1);
    const value = env[name];
    if (value === undefined || value === "") {
      missing(name);
      return match;
    }
    return value;
  });
}

/**
 * Returns a copy of `value` with every string substituted, plus one issue
 * (`GW_ERR_CONFIG_ENV_MISSING`) per missing variable occurrence.
 */
export function substituteEnv(value: unknown, env: Env, basePath = ""): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const visit = (v: unknown, path: string): unknown => {
    if (typeof v === "string") {
      return substituteString(v, env, (name) =>
        issues.push({
          path,
          code: "GW_ERR_CONFIG_ENV_MISSING",
          message: `environment variable ${name} is missing or empty (referenced as \${${name}}); set it, or write $\${${name}} for a literal`,
        }),
      );
    }
    if (Array.isArray(v)) return v.map((item, i) => visit(item, joinPath(path, i)));
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[k] = visit(child, joinPath(path, k));
      return out;
    }
    return v;
  };
  return { value: visit(value, basePath), issues };
}
