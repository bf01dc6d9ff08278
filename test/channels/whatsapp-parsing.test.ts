/**
 * Pure parts of the WhatsApp worker: chunking, inbound parsing, target JIDs, disconnect
 * status codes, reconnect delays.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { reconnectDelay, resolveReconnect } from "../../src/workers/channels/whatsapp/backoff.js";
import { chunkText } from "../../src/workers/channels/whatsapp/chunk-text.js";
import { disconnectStatus } from "../../src/workers/channels/whatsapp/disconnect-status.js";
import { parseInbound, toJid } from "../../src/workers/channels/whatsapp/inbound-message.js";

test("chunkText: ≤ limit, prefers paragraph/line/space breaks, hard-cuts long runs without splitting surrogate pairs", () => {
  assert.deepEqual(chunkText("short"), ["short"]);
  assert.deepEqual(chunkText(""), [""]);
  const words = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(" ");
  const chunks = chunkText(words, 4000);
  assert.ok(chunks.every((c) => c.length <= 4000 && !c.startsWith(" ") && !c.endsWith(" ")));
  assert.equal(chunks.join(" "), words);
  const run = "😀".repeat(3000); // 6000 UTF-16 units
  const parts = chunkText(run, 4001);
  assert.ok(parts.every((p) => p.length <= 4001 && !/^[\uDC00-\uDFFF]/.test(p) && !/[\uD800-\uDBFF]$/.test(p)));
  assert.equal(parts.join(""), run);
});

test("parseInbound: unwraps ephemeral/view-once, ignores stubs, bounds text, matches mentions by JID or @number (LID too)", () => {
  const self = { jids: ["15550001111:7@s.whatsapp.net", "987654321:7@lid"] };
  const eph = parseInbound({ key: { remoteJid: "15552223333@s.whatsapp.net", id: "E1" }, message: { ephemeralMessage: { message: { extendedTextMessage: { text: "hi" } } } } }, self);
  assert.equal(eph?.text, "hi");
  assert.equal(parseInbound({ key: { remoteJid: "15552223333@s.whatsapp.net", id: "P1" }, message: { protocolMessage: { type: 0 } } }, self), null);
  assert.equal(parseInbound({ key: { remoteJid: "120363@g.us", id: "G0" }, message: { conversation: "no participant" } }, self), null);
  const lid = parseInbound(
    { key: { remoteJid: "120363@g.us", id: "G1", participant: "555@lid" }, message: { extendedTextMessage: { text: "yo", contextInfo: { mentionedJid: ["987654321@lid"] } } } },
    self,
  );
  assert.equal(lid?.mentionedSelf, true);
  assert.equal(lid?.from, "555@lid");
  const big = parseInbound({ key: { remoteJid: "15552223333@s.whatsapp.net", id: "B1" }, message: { conversation: "x".repeat(100_000) } }, self);
  assert.equal(big?.text.length, 65_536);
});

test("toJid: E.164, digits and JIDs; rejects anything else", () => {
  assert.equal(toJid("+1 555 222-3333"), "15552223333@s.whatsapp.net");
  assert.equal(toJid("120363000000000001@g.us"), "120363000000000001@g.us");
  assert.throws(() => toJid("../../etc"), RangeError);
  assert.throws(() => toJid("abc@evil.example"), RangeError);
});

test("disconnectStatus: Boom output, wrapped errors, status fields, and text fallbacks", () => {
  assert.equal(disconnectStatus({ output: { statusCode: 515 } }), 515);
  assert.equal(disconnectStatus({ error: { output: { statusCode: 515 } } }), 515);
  assert.equal(disconnectStatus({ cause: { statusCode: 401 } }), 401);
  assert.equal(disconnectStatus(new Error("Stream Errored (restart required)")), 515);
  assert.equal(disconnectStatus(new Error("Stream Errored (conflict)")), 440);
  assert.equal(disconnectStatus(undefined), null);
});

test("reconnectDelay: 2 s ×1.8 ±25 % capped at 30 s by default", () => {
  const p = resolveReconnect(undefined);
  assert.deepEqual(p, { initialMs: 2000, factor: 1.8, jitter: 0.25, maxMs: 30_000, maxAttempts: 12 });
  assert.equal(reconnectDelay(p, 1, () => 0.5), 2000);
  assert.equal(reconnectDelay(p, 2, () => 0.5), 3600);
  assert.equal(reconnectDelay(p, 1, () => 0), 1500);
  assert.equal(reconnectDelay(p, 1, () => 1), 2500);
  assert.equal(reconnectDelay(p, 20, () => 1), 30_000);
  assert.equal(reconnectDelay(p, 20, () => 0), 22_500);
});

test("Baileys is never imported statically: only `import()` inside the WhatsApp worker (start-up path stays free of it)", async () => {
  const { readdir, readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const root = new URL("../../src/", import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (p.endsWith(".ts")) {
        const text = await readFile(p, "utf8");
        const rel = p.slice(root.length);
        // Static value imports (type-only imports are erased) and any dynamic import outside the worker.
        if (/^import\s+(?!type\b)[^;]*from\s+["']@whiskeysockets\/baileys["']/m.test(text)) offenders.push(`${rel}: static import`);
        if (/import\(\s*["']@whiskeysockets\/baileys["']\s*\)/.test(text) && !rel.startsWith("workers/channels/whatsapp/")) offenders.push(`${rel}: dynamic import outside the worker`);
      }
    }
  };
  await walk(root);
  assert.deepEqual(offenders, []);
});
