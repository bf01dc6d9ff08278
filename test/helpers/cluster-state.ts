/**
 * Helpers for the shared-state cluster tests: operator clients on member gateways, waiting
 * for a member's shared buckets to be loaded, and polling a condition across processes
 * (no event crosses the process boundary, so these tests poll with a short period).
 */
import { connectOk, type TestClient } from "./client.js";
import { CLUSTER_TOKEN } from "./cluster-gateways.js";

type T = { after: (fn: () => void | Promise<void>) => void };

/** An operator client (shared token, admin scopes) on `url`, closed in `t.after`. */
export async function operatorOn(t: T, url: string): Promise<TestClient> {
  const { client } = await connectOk(url, { token: CLUSTER_TOKEN, scopes: ["operator.admin"] });
  t.after(() => client.close());
  return client;
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function pollUntil<V>(probe: () => Promise<V | undefined>, timeoutMs = 10_000, everyMs = 10): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until `health.cluster.<field>` (pairing, dedupe, leases) of the gateway behind `client` reports `synced: true`. */
export async function waitSynced(client: TestClient, field: string, timeoutMs = 15_000): Promise<void> {
  await pollUntil(async () => {
    const res = await client.request("health", { probe: true });
    const s = (res.payload as { cluster?: Record<string, { synced?: boolean } | undefined> }).cluster?.[field];
    return s?.synced === true ? true : undefined;
  }, timeoutMs, 50);
}
