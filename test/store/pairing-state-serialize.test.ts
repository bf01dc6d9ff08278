/**
 * paired.json is built from per-record texts cached until a record is marked changed: after
 * any mix of mutations (approve, metadata, ensure/rotate/revoke, lazy last-used stamps) the
 * file must equal what a full `JSON.stringify(…, null, 2)` of the memory state gives.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DevicePairingStore } from "../../src/shared/store/device-pairing-store.js";
import { NodePairingStore } from "../../src/shared/store/node-pairing-store.js";
import { mulberry32 } from "../helpers/seeded-random.js";

test("cached record texts never leave paired.json stale or differently formatted", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-serialize-"));
  const store = await DevicePairingStore.open({ stateDir: dir, lazyPersistMs: 60_000 });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const rand = mulberry32(7);
  const ids: string[] = [];
  const tokens = new Map<string, string>();
  for (let i = 0; i < 200; i++) {
    const r = rand();
    const id = ids[Math.floor(rand() * ids.length)];
    if (r < 0.3 || id === undefined) {
      const deviceId = `dev-${i}`;
      const { request } = store.requestPairing({ deviceId, publicKey: `pk${i}`, role: "operator", scopes: ["operator.read", "operator.write"], silent: true, displayName: `d${i}` });
      tokens.set(deviceId, store.approve(request.requestId).device.tokens?.operator?.token ?? "");
      ids.push(deviceId);
    } else if (r < 0.45) {
      store.updateMetadata(id, { displayName: `renamed ${i}`, platform: i % 2 ? "linux" : "macos" });
    } else if (r < 0.6) {
      tokens.set(id, store.rotateToken(id, "operator", rand() < 0.5 ? ["operator.read"] : undefined).token);
    } else if (r < 0.7) {
      store.revokeToken(id, "operator");
      tokens.set(id, store.ensureDeviceToken(id, "operator", ["operator.read"])?.token ?? "");
    } else {
      store.verifyDeviceToken(id, "operator", tokens.get(id), []);
    }
    if (rand() < 0.2) {
      await store.flush();
      const text = await readFile(store.pairedPath, "utf8");
      const expected = Object.fromEntries(ids.map((d) => [d, store.getPaired(d)]));
      assert.equal(text, `${JSON.stringify(expected, null, 2)}\n`, `step ${i}`);
    }
  }
});

test("node pairing: rename and lazy connect stamps reach paired.json", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-serialize-nodes-"));
  const store = await NodePairingStore.open({ stateDir: dir, lazyPersistMs: 60_000 });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  for (const nodeId of ["n1", "n2"]) store.approve(store.request({ nodeId, displayName: nodeId }).request.requestId);
  await store.flush();
  store.rename("n1", "kitchen");
  store.touchConnected("n2", 1234);
  await store.flush();
  const file = JSON.parse(await readFile(store.pairedPath, "utf8")) as Record<string, { displayName?: string; lastConnectedAtMs?: number }>;
  assert.equal(file.n1?.displayName, "kitchen");
  assert.equal(file.n2?.lastConnectedAtMs, 1234);
});
