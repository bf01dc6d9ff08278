/**
 * `system-event` presence keying and parsing (§3.3, §6.3).
 *
 * Params are not schema-validated by the reference: wrong types are ignored, `text`
 * is required (trimmed, non-empty).
 */
import os from "node:os";
import type { PresenceUpdate } from "./presence-store.js";
import { LIMITS } from "../../shared/protocol/limits.js";

/** Longest accepted value of each string field a presence entry keeps (see `LIMITS`). */
const FIELD_MAX: Record<string, number> = {
  text: LIMITS.text,
  host: LIMITS.name,
  platform: LIMITS.name,
  deviceFamily: LIMITS.name,
  modelIdentifier: LIMITS.name,
  version: LIMITS.version,
  deviceId: LIMITS.id,
  instanceId: LIMITS.id,
  ip: LIMITS.id,
  mode: LIMITS.id,
  reason: LIMITS.name,
};
const LIST_FIELDS = ["roles", "scopes", "tags"] as const;

/**
 * Bounds on what a `system-event` stores in presence (entries are served to every client in
 * `hello-ok`): the first violation as an INVALID_REQUEST message, or null when within bounds.
 */
export function systemEventBoundsError(params: Record<string, unknown>): string | null {
  for (const [field, max] of Object.entries(FIELD_MAX)) {
    const v = params[field];
    if (typeof v === "string" && v.length > max) return `invalid system-event params: at /${field}: must NOT have more than ${max} characters`;
  }
  for (const field of LIST_FIELDS) {
    const v = params[field];
    if (!Array.isArray(v)) continue;
    if (v.length > LIMITS.list) return `invalid system-event params: at /${field}: must NOT have more than ${LIMITS.list} items`;
    if (v.some((x) => typeof x === "string" && x.length > LIMITS.entry)) {
      return `invalid system-event params: at /${field}: entries must NOT have more than ${LIMITS.entry} characters`;
    }
  }
  return null;
}

export interface ParsedSystemEvent {
  key: string;
  text: string;
  update: PresenceUpdate;
}

const NODE_LINE =
  /^Node:\s*(?<host>[^(·]+?)\s*(?:\((?<ip>[^)]*)\))?\s*(?:·\s*app\s+(?<version>[^·]+?)\s*)?(?:·\s*last input\s+(?<lastInput>\d+)s ago\s*)?(?:·\s*mode\s+(?<mode>[^·]+?)\s*)?(?:·\s*reason\s+(?<reason>[^·]+?)\s*)?$/;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function strArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

/** Returns null when `text` is missing/blank (→ `INVALID_REQUEST "text required"`). */
export function parseSystemEvent(params: Record<string, unknown>): ParsedSystemEvent | null {
  const text = str(params.text);
  if (!text) return null;
  const m = NODE_LINE.exec(text)?.groups ?? {};
  const parsed: PresenceUpdate = {};
  if (m.host) parsed.host = m.host.trim();
  if (m.ip) parsed.ip = m.ip.trim();
  if (m.version) parsed.version = m.version.trim();
  if (m.mode) parsed.mode = m.mode.trim();
  if (m.reason) parsed.reason = m.reason.trim();
  if (m.lastInput) parsed.lastInputSeconds = Number(m.lastInput);

  const explicit: PresenceUpdate = {
    deviceId: str(params.deviceId),
    instanceId: str(params.instanceId),
    host: str(params.host),
    ip: str(params.ip),
    mode: str(params.mode),
    version: str(params.version),
    platform: str(params.platform),
    deviceFamily: str(params.deviceFamily),
    modelIdentifier: str(params.modelIdentifier),
    reason: str(params.reason),
    roles: strArray(params.roles),
    scopes: strArray(params.scopes),
    tags: strArray(params.tags),
    lastInputSeconds:
      typeof params.lastInputSeconds === "number" && Number.isFinite(params.lastInputSeconds) && params.lastInputSeconds >= 0
        ? Math.floor(params.lastInputSeconds)
        : undefined,
  };
  const update: PresenceUpdate = { ...parsed };
  for (const [k, v] of Object.entries(explicit)) if (v !== undefined) (update as Record<string, unknown>)[k] = v;
  update.text = text;

  const key =
    explicit.deviceId ??
    explicit.instanceId ??
    parsed.host?.toLowerCase() ??
    parsed.ip ??
    (text.slice(0, 64) || os.hostname());
  return { key, text, update };
}

/** Fields whose change produces a "Node:" delta system event. */
const TRACKED = ["host", "ip", "version", "mode", "reason"] as const;

/**
 * The delta line enqueued for the main session when a "Node:" event changed tracked
 * fields (reason ignored when periodic/heartbeat), or null when nothing changed.
 */
export function nodeDeltaLine(prev: PresenceUpdate | undefined, next: PresenceUpdate): string | null {
  const changed = TRACKED.some((f) => {
    if (f === "reason" && (next.reason?.startsWith("periodic") || next.reason === "heartbeat")) return false;
    return prev?.[f] !== next[f];
  });
  if (!changed) return null;
  const parts = [`Node: ${next.host ?? "unknown"}${next.ip ? ` (${next.ip})` : ""}`];
  if (next.version) parts.push(`app ${next.version}`);
  if (next.mode) parts.push(`mode ${next.mode}`);
  if (next.reason) parts.push(`reason ${next.reason}`);
  return parts.join(" · ");
}
