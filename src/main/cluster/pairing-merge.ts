/**
 * How a pairing change made on this gateway folds into a newer shared record written by
 * another gateway meanwhile (kv-records.ts retries the write with the result). A device's
 * tokens merge per role: a role whose token this gateway changed (minted, rotated, revoked)
 * keeps this gateway's entry — it is what the waiting client is about to be told — and every
 * other role keeps the shared entry (another gateway's rotation or revocation). Roles and
 * approved scopes are the union; metadata is this gateway's.
 */
import type { DeviceAuthToken, PairedDevice } from "../../shared/store/device-pairing-types.js";
import type { PairedNode } from "../../shared/store/node-pairing-types.js";

function sameToken(a: DeviceAuthToken | undefined, b: DeviceAuthToken | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.token === b.token && a.revokedAtMs === b.revokedAtMs && a.scopes.join() === b.scopes.join();
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])].sort();
}

/** `mine` was made from `base`; `theirs` is the newer shared record. */
export function mergePairedDevice(mine: PairedDevice, base: PairedDevice | undefined, theirs: PairedDevice): PairedDevice {
  const out: PairedDevice = { ...mine, createdAtMs: Math.min(mine.createdAtMs, theirs.createdAtMs), approvedAtMs: Math.max(mine.approvedAtMs, theirs.approvedAtMs) };
  const roles = union(mine.roles, theirs.roles);
  if (roles !== undefined) out.roles = roles;
  const scopes = union(mine.scopes, theirs.scopes);
  if (scopes !== undefined) out.scopes = scopes;
  const tokens: Record<string, DeviceAuthToken> = {};
  for (const role of new Set([...Object.keys(mine.tokens ?? {}), ...Object.keys(theirs.tokens ?? {})])) {
    const m = mine.tokens?.[role];
    const changedHere = !sameToken(m, base?.tokens?.[role]);
    const pick = changedHere ? m : theirs.tokens?.[role];
    if (pick !== undefined) tokens[role] = pick;
  }
  if (Object.keys(tokens).length > 0 || mine.tokens !== undefined || theirs.tokens !== undefined) out.tokens = tokens;
  return out;
}

/** A node record is one token: this gateway's change wins; the latest connect time is kept. */
export function mergePairedNode(mine: PairedNode, _base: PairedNode | undefined, theirs: PairedNode): PairedNode {
  const out: PairedNode = { ...mine };
  const last = Math.max(mine.lastConnectedAtMs ?? 0, theirs.lastConnectedAtMs ?? 0);
  if (last > 0) out.lastConnectedAtMs = last;
  return out;
}
