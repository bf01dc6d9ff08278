/**
 * `agent` / `chat.send` attachments (§3.5): image attachments (base64 or data URL) reach the
 * model as image blocks after the text and are kept in the transcript; other attachments are
 * dropped; a malformed or oversized image is INVALID_REQUEST naming it, before any run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { imageAttachments, MAX_IMAGE_ATTACHMENT_BYTES } from "../../src/main/agents/attachments.js";
import { agentTwoStage, startAgentGateway } from "./helpers/agent-gateway.js";

const PNG = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), randomBytes(200)]).toString("base64");
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(100)]).toString("base64");

test("imageAttachments: base64 and data URLs, mime from the field, the URL or the bytes; non-images dropped; bad ones named", () => {
  const out = imageAttachments([
    { type: "image", mimeType: "image/png", fileName: "a.png", content: PNG },
    { content: `data:image/jpeg;base64,${JPEG}` },
    { type: "image", content: JPEG },
    { type: "file", mimeType: "application/pdf", fileName: "doc.pdf", content: Buffer.from("%PDF-1.4").toString("base64") },
  ]);
  assert.deepEqual(out, [
    { type: "image", mimeType: "image/png", data: PNG },
    { type: "image", mimeType: "image/jpeg", data: JPEG },
    { type: "image", mimeType: "image/jpeg", data: JPEG },
  ]);
  assert.deepEqual(imageAttachments(undefined), []);
  assert.throws(() => imageAttachments([{ mimeType: "image/png", fileName: "x.png", content: "not base64!" }]), /^Error: attachment x\.png: invalid base64 content$/);
  assert.throws(() => imageAttachments([{ mimeType: "image/png", content: 42 }]), /attachment #1: content must be a base64 string or data URL/);
  const big = Buffer.alloc(MAX_IMAGE_ATTACHMENT_BYTES + 3).toString("base64");
  assert.throws(() => imageAttachments([{ mimeType: "image/png", fileName: "big.png", content: big }]), /attachment big\.png: exceeds size limit \(5000003 > 5000000 bytes\)/);
});

test("gateway: an agent run with an image attachment sends it to the model after the text and keeps it in the transcript; a bad one is INVALID_REQUEST", async (t) => {
  const h = await startAgentGateway();
  t.after(() => h.close());
  const c = await h.connect();
  h.openai.script("gpt-a", { type: "text", text: "a cat" });
  const [ack, final] = await agentTwoStage(c, {
    message: "what is this?",
    sessionKey: "pics",
    idempotencyKey: "img-1",
    attachments: [
      { type: "image", mimeType: "image/png", fileName: "cat.png", content: PNG },
      { type: "file", mimeType: "text/plain", fileName: "notes.txt", content: Buffer.from("hello").toString("base64") },
    ],
  });
  assert.equal(ack.ok, true, JSON.stringify(ack.error));
  assert.equal(final.payload?.status, "ok");
  const messages = h.openai.requestsFor("gpt-a")[0]!.body.messages as { role: string; content: unknown }[];
  assert.deepEqual(messages.at(-1), {
    role: "user",
    content: [
      { type: "text", text: "what is this?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    ],
  });
  const hist = await c.request("chat.history", { sessionKey: "pics" });
  const user = (hist.payload.messages as { role: string; content: unknown }[]).find((m) => m.role === "user")!;
  assert.deepEqual(user.content, [
    { type: "text", text: "what is this?" },
    { type: "image", data: PNG, mimeType: "image/png" },
  ]);

  const bad = await c.request("chat.send", { sessionKey: "pics", message: "and this?", idempotencyKey: "img-2", attachments: [{ mimeType: "image/png", fileName: "broken.png", content: "%%%" }] });
  assert.equal(bad.error?.code, "INVALID_REQUEST");
  assert.equal(bad.error?.message, "invalid chat.send params: attachment broken.png: invalid base64 content");
  assert.equal(h.openai.requestsFor("gpt-a").length, 1, "the refused run never reached the model");
});
