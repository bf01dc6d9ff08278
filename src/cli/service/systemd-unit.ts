/**
 * Rendering and reading the systemd user unit (§9.3, runbook "Supervision (systemd
 * user unit)").
 *
 * Escaping follows systemd.syntax(7) / systemd.service(5):
 *   - `%` starts a specifier everywhere → written as `%%`;
 *   - `$` expands variables on Exec lines → written as `$$` there;
 *   - a word containing whitespace, quotes or backslashes is double-quoted with `\\` and
 *     `\"` escapes; Environment= quotes the whole `KEY=value` assignment the same way.
 * Control characters (newlines) cannot be represented and are refused.
 */
import type { ServiceSpec } from "./service-spec.js";
import { splitSecretEnvironment } from "./service-secrets.js";

/** What an installed definition runs (shared shape with the launchd reader). */
export interface ParsedServiceCommand {
  programArguments: string[];
  workingDirectory?: string;
  /** Variables written in the definition itself. */
  environment: Record<string, string>;
  /** systemd `EnvironmentFile=` paths (a leading `-` kept: missing is fine); absent for launchd. */
  environmentFiles?: string[];
}

function refuseControlChars(value: string, what: string): void {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new Error(`cannot write ${what} into a systemd unit: it contains a newline or control character (${JSON.stringify(value)})`);
  }
}

function quoteWord(word: string): string {
  if (word !== "" && !/[\s"'\\]/.test(word)) return word;
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** One ExecStart argument, escaped and quoted when needed. */
export function quoteSystemdExecArg(arg: string): string {
  refuseControlChars(arg, "a program argument");
  return quoteWord(arg.replace(/%/g, "%%").replace(/\$/g, "$$$$"));
}

/** One `Environment=` value (`KEY=value`, quoted as a whole when needed). */
export function formatSystemdEnvironment(key: string, value: string): string {
  refuseControlChars(value, `${key}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`invalid environment variable name ${JSON.stringify(key)}`);
  return quoteWord(`${key}=${value.replace(/%/g, "%%")}`);
}

/**
 * The unit file text for `spec` (deterministic: same spec → same bytes). Secret variables
 * (service-secrets.ts) are not written here: the unit names their 0600 `EnvironmentFile=`.
 */
export function renderSystemdUnit(spec: ServiceSpec): string {
  refuseControlChars(spec.description, "the description");
  refuseControlChars(spec.workingDirectory, "the working directory");
  const { plain, secret } = splitSecretEnvironment(spec.environment);
  const hasSecrets = Object.keys(secret).length > 0;
  if (hasSecrets) refuseControlChars(spec.secretsPath, "the environment file path");
  const lines = [
    "[Unit]",
    `Description=${spec.description.replace(/%/g, "%%")}`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=${spec.programArguments.map(quoteSystemdExecArg).join(" ")}`,
    "Restart=always",
    "RestartSec=5",
    "KillMode=process",
    // 78 = EX_CONFIG: a broken config must not restart-loop; 143 = SIGTERM is a clean stop.
    "RestartPreventExitStatus=78",
    "SuccessExitStatus=0 143",
    `WorkingDirectory=${spec.workingDirectory.replace(/%/g, "%%")}`,
    ...Object.entries(plain).map(([k, v]) => `Environment=${formatSystemdEnvironment(k, v)}`),
    ...(hasSecrets ? [`EnvironmentFile=${spec.secretsPath.replace(/%/g, "%%")}`] : []),
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ];
  return lines.join("\n");
}

/** Splits a systemd value into words (quotes and backslash escapes). */
export function splitSystemdWords(value: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? "";
    if (c === "\\" && i + 1 < value.length) {
      const n = value[++i] ?? "";
      cur += n === "n" ? "\n" : n === "t" ? "\t" : n === "s" ? " " : n;
      inWord = true;
    } else if (quote !== null) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Reads ExecStart, WorkingDirectory and Environment back from a unit file. */
export function parseSystemdUnit(text: string): ParsedServiceCommand {
  const out: ParsedServiceCommand = { programArguments: [], environment: {} };
  let section = "";
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      section = line;
      continue;
    }
    if (section !== "[Service]") continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === "ExecStart") {
      out.programArguments = splitSystemdWords(value).map((w) => w.replace(/\$\$/g, "$").replace(/%%/g, "%"));
    } else if (key === "WorkingDirectory") {
      out.workingDirectory = value.replace(/%%/g, "%");
    } else if (key === "EnvironmentFile") {
      (out.environmentFiles ??= []).push(value.replace(/%%/g, "%"));
    } else if (key === "Environment") {
      for (const word of splitSystemdWords(value)) {
        const i = word.indexOf("=");
        if (i > 0) out.environment[word.slice(0, i)] = word.slice(i + 1).replace(/%%/g, "%");
      }
    }
  }
  return out;
}
