/**
 * The node directory's record format: key = node id (encoded for KV), value = which
 * gateway run has the node connected plus the live half of its `NodeInfo`, so any
 * gateway can answer `node.list` / `node.describe` for it without asking the owner.
 */
import type { LiveNodeInfo } from "../nodes/node-session.js";

/** The value stored under a node's key. */
export interface DirectoryRecord {
  nodeId: string;
  /** Owning gateway id. */
  gw: string;
  /** The owner's `since` (its run): the record is valid only while that run is a live member. */
  since: number;
  info: LiveNodeInfo;
  /** Paired as a node in the owner's pairing store when it connected. */
  paired: boolean;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * KV keys allow `[-/_=.A-Za-z0-9]`; node ids are device ids (hex) or client ids (free
 * text). Plain ids are used as they are (readable with `nats kv`); any other id is
 * `b64.<base64url>`, which cannot collide with a plain one because plain ids have no dot.
 */
export function directoryKey(nodeId: string): string {
  return PLAIN_KEY.test(nodeId) ? nodeId : `b64.${Buffer.from(nodeId, "utf8").toString("base64url")}`;
}

/** Parses a record; null when it is not one (a foreign or damaged value). */
export function parseDirectoryRecord(text: string): DirectoryRecord | null {
  try {
    const v = JSON.parse(text) as Partial<DirectoryRecord> | null;
    if (!v || typeof v.nodeId !== "string" || typeof v.gw !== "string" || typeof v.since !== "number" || typeof v.info !== "object" || v.info === null) return null;
    return v as DirectoryRecord;
  } catch {
    return null;
  }
}
