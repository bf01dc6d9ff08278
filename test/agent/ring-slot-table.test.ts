import { test } from "node:test";
import assert from "node:assert/strict";
import { claimSlot, createRingSlotTable, releaseSlot, slotOwners } from "../../src/workers/agent/pool/ring-slot-table.js";

test("slots are claimed once each, released only by their owner, and reused", () => {
  const table = createRingSlotTable(3, { eventRingBytes: 4096, controlRingBytes: 1024 });
  assert.equal(table.slots.length, 3);
  assert.ok(table.slots.every((s) => s.events.data instanceof SharedArrayBuffer));
  assert.deepEqual([claimSlot(table, 11), claimSlot(table, 12), claimSlot(table, 13), claimSlot(table, 14)], [0, 1, 2, -1]);
  assert.equal(releaseSlot(table, 1, 99), false, "only the owner releases");
  assert.equal(releaseSlot(table, 1, 12), true);
  assert.deepEqual(slotOwners(table), [11, 0, 13]);
  assert.equal(claimSlot(table, 15), 1);
  // A clone (what workerData carries) shares the claim words.
  const clone = structuredClone(table);
  assert.equal(releaseSlot(clone, 0, 11), true);
  assert.equal(slotOwners(table)[0], 0);
});
