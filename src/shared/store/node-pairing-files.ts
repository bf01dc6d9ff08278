/**
 * Load-time sanitising of `nodes/{paired,pending}.json` records: the files may have been
 * edited by hand (or written by the reference gateway), so every field is checked and
 * copied, never trusted as is. Reading, quarantining and tmp sweeping are shared with the
 * device store (`loadRecordFile`).
 */
import { isPlainObject } from "./device-pairing-files.js";
import type { NodeMetadata, PairedNode, PendingNodeRequest } from "./node-pairing-types.js";

type Obj = Record<string, unknown>;

const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isFlags = (v: unknown): v is Record<string, boolean> => isPlainObject(v) && Object.values(v).every((x) => typeof x === "boolean");

const STRING_KEYS = ["displayName", "platform", "version", "coreVersion", "uiVersion", "deviceFamily", "modelIdentifier", "remoteIp"] as const;

function copyMetadata(target: NodeMetadata, src: Obj): void {
  for (const k of STRING_KEYS) {
    const v = src[k];
    if (isStr(v)) target[k] = v;
  }
  if (isStrArr(src.caps)) target.caps = [...src.caps];
  if (isStrArr(src.commands)) target.commands = [...src.commands];
  if (isFlags(src.permissions)) target.permissions = { ...src.permissions };
}

/** A well-formed copy of a `nodes/paired.json` record, or undefined. */
export function sanitizePairedNode(key: string, v: unknown): PairedNode | undefined {
  if (!isPlainObject(v) || v.nodeId !== key || !isStr(v.token) || v.token === "" || !isNum(v.createdAtMs) || !isNum(v.approvedAtMs)) {
    return undefined;
  }
  const n: PairedNode = { nodeId: key, token: v.token, createdAtMs: v.createdAtMs, approvedAtMs: v.approvedAtMs };
  copyMetadata(n, v);
  if (isStrArr(v.bins)) n.bins = [...v.bins];
  if (isNum(v.lastConnectedAtMs)) n.lastConnectedAtMs = v.lastConnectedAtMs;
  return n;
}

/** A well-formed copy of a `nodes/pending.json` record, or undefined. */
export function sanitizePendingNodeRequest(key: string, v: unknown): PendingNodeRequest | undefined {
  if (!isPlainObject(v) || v.requestId !== key || !isStr(v.nodeId) || v.nodeId === "" || !isNum(v.ts)) return undefined;
  const r: PendingNodeRequest = { requestId: key, nodeId: v.nodeId, isRepair: v.isRepair === true, ts: v.ts };
  copyMetadata(r, v);
  if (typeof v.silent === "boolean") r.silent = v.silent;
  return r;
}
