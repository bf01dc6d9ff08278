/**
 * Rendering and reading the LaunchAgent plist (§9.3): `Label`, `Comment`,
 * `RunAtLoad`, `KeepAlive`, `ProgramArguments`, `WorkingDirectory`,
 * `StandardOutPath`/`StandardErrorPath` (<stateDir>/logs/gateway{,.err}.log) and
 * `EnvironmentVariables` (non-empty values only). Every string is XML-escaped.
 */
import { parsePlist, type PlistValue } from "./plist-read.js";
import type { ParsedServiceCommand } from "./systemd-unit.js";
import type { ServiceSpec } from "./service-spec.js";

/** Escapes the five XML special characters; refuses characters XML 1.0 cannot carry. */
export function escapeXml(value: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) {
    throw new Error(`cannot write ${JSON.stringify(value)} into a plist: it contains a control character`);
  }
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c);
}

function str(indent: string, value: string): string {
  return `${indent}<string>${escapeXml(value)}</string>`;
}

function key(indent: string, name: string): string {
  return `${indent}<key>${escapeXml(name)}</key>`;
}

/** The plist text for `spec` (deterministic). */
export function renderLaunchdPlist(spec: ServiceSpec): string {
  const i1 = "  ";
  const i2 = "    ";
  const i3 = "      ";
  const env = Object.entries(spec.environment).filter(([, v]) => v !== "");
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<plist version="1.0">`,
    `${i1}<dict>`,
    key(i2, "Label"),
    str(i2, spec.label),
    key(i2, "Comment"),
    str(i2, spec.description),
    key(i2, "RunAtLoad"),
    `${i2}<true/>`,
    key(i2, "KeepAlive"),
    `${i2}<true/>`,
    key(i2, "ProgramArguments"),
    `${i2}<array>`,
    ...spec.programArguments.map((a) => str(i3, a)),
    `${i2}</array>`,
    key(i2, "WorkingDirectory"),
    str(i2, spec.workingDirectory),
    key(i2, "StandardOutPath"),
    str(i2, spec.stdoutPath),
    key(i2, "StandardErrorPath"),
    str(i2, spec.stderrPath),
    key(i2, "EnvironmentVariables"),
    `${i2}<dict>`,
    ...env.flatMap(([k, v]) => [key(i3, k), str(i3, v)]),
    `${i2}</dict>`,
    `${i1}</dict>`,
    `</plist>`,
    "",
  ];
  return lines.join("\n");
}

function asDict(v: PlistValue | undefined): Record<string, PlistValue> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
}

/** Reads ProgramArguments, WorkingDirectory and EnvironmentVariables back from a plist. */
export function parseLaunchdPlist(text: string): ParsedServiceCommand {
  const root = asDict(parsePlist(text));
  if (root === undefined) throw new Error("plist root is not a dict");
  const args = root.ProgramArguments;
  const env = asDict(root.EnvironmentVariables) ?? {};
  const out: ParsedServiceCommand = {
    programArguments: Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [],
    environment: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string")),
  };
  if (typeof root.WorkingDirectory === "string") out.workingDirectory = root.WorkingDirectory;
  return out;
}
