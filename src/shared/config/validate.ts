/**
 * Config validation: a precompiled check (`generated/config-validator.ts`, written by
 * `npm run config:gen` from the TypeBox schema), so no schema is compiled or even loaded
 * when a config is valid. Only a failing config loads the schema (`schema-errors.ts`) to
 * name every problem: `gateway.port: expected integer 1..65535, got "abc"`.
 */
import { validateConfig } from "./generated/config-validator.js";
import type { ConfigIssue } from "./config-issue.js";
import type { ClawdbotConfig } from "./schema/index.js";

export type { ConfigIssue } from "./config-issue.js";

const check = validateConfig as (value: unknown) => boolean;

/** Validates a substituted config object. Returns it typed when valid. */
export async function validateConfigObject(
  value: unknown,
): Promise<{ ok: true; config: ClawdbotConfig } | { ok: false; issues: ConfigIssue[] }> {
  if (check(value)) return { ok: true, config: value as ClawdbotConfig };
  const { explainConfigErrors } = await import("./schema-errors.js");
  return { ok: false, issues: explainConfigErrors(value) };
}

/** `gateway.port: expected …` lines, one per issue (for logs and the CLI). */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path === "" ? "<root>" : i.path}: ${i.message}`).join("\n");
}
