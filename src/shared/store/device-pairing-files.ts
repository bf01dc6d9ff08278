/**
 * Loading `devices/{paired,pending}.json`: stale tmp files of dead writers are removed, a corrupt
 * file is quarantined (`<file>.corrupt-<ms>`) and the store starts empty for it, and every record
 * is sanitised — the files may have been edited by hand, so nothing read is trusted as is.
 */
import { chmod } from "node:fs/promises";
import { readJsonFile, removeStaleTempFiles } from "./atomic-json.js";
import { normalizeScopes } from "./device-pairing-types.js";
import type { DeviceAuthToken, PairedDevice, PendingDeviceRequest } from "./device-pairing-types.js";

/** Receives operator-facing load problems. */
export type LoadWarning = (message: string, details: Record<string, unknown>) => void;

/**
 * Reads one record file into a map keyed like the file. Malformed records are dropped (and
 * reported); the file's mode is tightened to 0600 if it was looser.
 */
export async function loadRecordFile<T>(path: string, sanitize: (key: string, value: unknown) => T | undefined, warn: LoadWarning): Promise<Map<string, T>> {
  await removeStaleTempFiles(path);
  const raw = await readJsonFile<Record<string, unknown>>(path, {
    fallback: () => ({}),
    validate: isPlainObject,
    onCorrupt: "quarantine",
    onQuarantine: (info) => warn(`corrupt ${info.path} moved to ${info.movedTo}; starting empty`, { ...info }),
  });
  const out = new Map<string, T>();
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const rec = sanitize(key, value);
    if (rec === undefined) dropped.push(key);
    else out.set(key, rec);
  }
  if (dropped.length > 0) warn(`ignored ${dropped.length} malformed record(s) in ${path}`, { path, keys: dropped });
  if (Object.keys(raw).length > 0) await chmod(path, 0o600).catch(() => undefined);
  return out;
}

type Obj = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isPlainObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

function copyOptional<T extends object>(target: T, src: Obj, keys: readonly (keyof T & string)[], check: (v: unknown) => boolean): void {
  for (const k of keys) {
    const v = src[k];
    if (v !== undefined && check(v)) (target as Obj)[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
  }
}

function sanitizeToken(v: unknown, role: string): DeviceAuthToken | undefined {
  if (!isPlainObject(v) || !isStr(v.token) || v.token === "" || !isNum(v.createdAtMs)) return undefined;
  const t: DeviceAuthToken = {
    token: v.token,
    role,
    scopes: normalizeScopes(isStrArr(v.scopes) ? v.scopes : []),
    createdAtMs: v.createdAtMs,
  };
  copyOptional(t, v, ["rotatedAtMs", "revokedAtMs", "lastUsedAtMs"], isNum);
  return t;
}

/** A well-formed copy of a `paired.json` record, or undefined when it cannot be trusted. */
export function sanitizePairedDevice(key: string, v: unknown): PairedDevice | undefined {
  if (!isPlainObject(v) || v.deviceId !== key || !isStr(v.publicKey) || !isNum(v.createdAtMs) || !isNum(v.approvedAtMs)) {
    return undefined;
  }
  const d: PairedDevice = { deviceId: key, publicKey: v.publicKey, createdAtMs: v.createdAtMs, approvedAtMs: v.approvedAtMs };
  copyOptional(d, v, ["displayName", "platform", "clientId", "clientMode", "role", "remoteIp"], isStr);
  copyOptional(d, v, ["roles", "scopes"], isStrArr);
  if (isPlainObject(v.tokens)) {
    const tokens: Record<string, DeviceAuthToken> = {};
    for (const [role, raw] of Object.entries(v.tokens)) {
      const t = sanitizeToken(raw, role);
      if (t !== undefined) tokens[role] = t;
    }
    d.tokens = tokens;
  }
  return d;
}

/** A well-formed copy of a `pending.json` record, or undefined. */
export function sanitizePendingRequest(key: string, v: unknown): PendingDeviceRequest | undefined {
  if (!isPlainObject(v) || v.requestId !== key || !isStr(v.deviceId) || !isStr(v.publicKey) || !isStr(v.role) || !isNum(v.ts)) {
    return undefined;
  }
  const r: PendingDeviceRequest = {
    requestId: key,
    deviceId: v.deviceId,
    publicKey: v.publicKey,
    role: v.role,
    roles: isStrArr(v.roles) ? [...v.roles] : [v.role],
    scopes: isStrArr(v.scopes) ? [...v.scopes] : [],
    silent: v.silent === true,
    isRepair: v.isRepair === true,
    ts: v.ts,
  };
  copyOptional(r, v, ["displayName", "platform", "clientId", "clientMode", "remoteIp"], isStr);
  return r;
}
