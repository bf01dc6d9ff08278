/** Waiting on a cluster member's merged presence view (system-presence and `presence` events). */
import type { Frame, TestClient } from "./client.js";

/** A presence entry as the tests read it. */
export interface SeenEntry {
  instanceId?: string;
  host?: string;
  mode?: string;
  reason?: string;
  ts: number;
}

/** `system-presence` of `client`'s gateway. */
export async function systemPresence(client: TestClient): Promise<SeenEntry[]> {
  const res = await client.request("system-presence");
  if (!res.ok) throw new Error(`system-presence failed: ${JSON.stringify(res.error)}`);
  return res.payload as SeenEntry[];
}

/** The first `presence` event (from frame index `from`) whose list satisfies `pred`. */
export function presenceEvent(client: TestClient, pred: (list: SeenEntry[]) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
  return client.next((f) => f.type === "event" && f.event === "presence" && pred((f.payload as { presence: SeenEntry[] }).presence), timeoutMs, from);
}

/** Polls `system-presence` (10 ms) until `pred` holds; resolves with the elapsed ms. */
export async function untilPresence(client: TestClient, pred: (list: SeenEntry[]) => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (pred(await systemPresence(client))) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`presence condition not met in ${timeoutMs} ms: ${JSON.stringify(await systemPresence(client))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True when the list holds an entry of every gateway id in `ids` (their self entries). */
export function hasGateways(list: SeenEntry[], ids: readonly string[]): boolean {
  return ids.every((id) => list.some((e) => e.mode === "gateway" && e.instanceId === id));
}

/** True when the list holds an entry with this instance id. */
export function hasInstance(list: SeenEntry[], instanceId: string): boolean {
  return list.some((e) => e.instanceId === instanceId);
}
