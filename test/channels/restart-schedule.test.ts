/** The channels' restart schedule: 2 s ×1.8, up to +25 % jitter, max 30 s, breaker after 12. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RestartPolicy } from "../../src/main/workers/restart-policy.js";
import { CHANNEL_RESTART } from "../../src/main/channels/channels-module.js";

test("telegram schedule: 2 s growing ×1.8 with jitter within +25 %, capped at 30 s, breaker after 12 restarts", () => {
  const noJitter = new RestartPolicy({ ...CHANNEL_RESTART.telegram, random: () => 0 });
  const maxJitter = new RestartPolicy({ ...CHANNEL_RESTART.telegram, random: () => 0.999999 });
  const base: number[] = [];
  const high: number[] = [];
  for (let i = 0; i < 12; i++) {
    const a = noJitter.onFailure(i * 1000, 0);
    const b = maxJitter.onFailure(i * 1000, 0);
    assert.equal(a.action, "restart");
    assert.equal(b.action, "restart");
    if (a.action === "restart" && b.action === "restart") {
      base.push(a.delayMs);
      high.push(b.delayMs);
    }
  }
  assert.deepEqual(base.slice(0, 4), [2000, 3600, 6480, 11664]);
  assert.equal(base[11], 30_000);
  base.forEach((d, i) => assert.ok(high[i]! >= d && high[i]! <= Math.min(30_000, Math.round(d * 1.25)), `jitter bound at ${i}`));
  assert.ok(high[1]! > base[1]!, "jitter adds delay");
  assert.equal(noJitter.onFailure(13_000, 0).action, "break");
});
