/** The rate limit on repeated canvas log lines (file watch failures). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { rateLimitedLog } from "../../src/workers/canvas/log-rate-limit.js";

test("a flood is written `burst` times per window, then summarised once per window", async (t) => {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  let now = 1_000_000;
  let summarised: () => void = () => {};
  const summary = new Promise<void>((resolve) => (summarised = resolve));
  const write = (fields: Record<string, unknown>, msg: string): void => {
    lines.push({ fields, msg });
    if (msg === "suppressed more") summarised();
  };
  const limited = rateLimitedLog(write, { burst: 3, windowMs: 40, summary: "suppressed more", now: () => now });
  t.after(() => limited.close());

  for (let i = 0; i < 1000; i++) limited.write({ i }, "watch failed");
  assert.deepEqual(
    lines.map((l) => l.fields.i),
    [0, 1, 2],
  );
  assert.equal(limited.suppressed, 997);

  // The window's summary arrives when the window ends (a real timer), without a new write.
  // The limiter's timer is unref'd (it must never hold a worker open): keep the loop alive.
  const keepAlive = setTimeout(() => {}, 5000);
  await summary;
  clearTimeout(keepAlive);
  assert.deepEqual(lines[3], { fields: { suppressed: 997, windowMs: 40 }, msg: "suppressed more" });

  // A new window writes again.
  now += 40;
  limited.write({ i: "next" }, "watch failed");
  assert.equal(lines.length, 5);
  assert.equal(lines[4]?.fields.i, "next");
  assert.equal(limited.suppressed, 0);
});

test("a new window reports what the last one suppressed before writing, even if its timer has not fired", (t) => {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  let now = 0;
  const limited = rateLimitedLog((fields, msg) => lines.push({ fields, msg }), { burst: 1, windowMs: 60_000, summary: "more", now: () => now });
  t.after(() => limited.close());
  limited.write({}, "a");
  limited.write({}, "b");
  limited.write({}, "c");
  now = 60_000;
  limited.write({}, "d");
  assert.deepEqual(
    lines.map((l) => l.msg),
    ["a", "more", "d"],
  );
  assert.equal(lines[1]?.fields.suppressed, 2);
});
