/**
 * `send` mirrors what it delivered into the session transcript (§3.4 steps 4–5, §10.4,
 * guarantee 53): as an assistant message from `clawdbot`/`delivery-mirror`, into the given
 * session key lower-cased or the one inbound routing gives the chat (DM → main session,
 * group → `agent:main:telegram:group:<id>`), once per idempotency key, never for a failed
 * delivery. The mirror is not awaited by the send (a run may hold the session), so each
 * check polls `chat.history`; mirrors of one session are appended in order, so waiting for a
 * later send's mirror shows whether an earlier one was (wrongly) written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectOk, type TestClient } from "../helpers/client.js";
import { startChannels } from "./channels-helpers.js";

interface HistoryMessage {
  role: string;
  content: { type: string; text?: string }[];
  provider?: string;
  model?: string;
  stopReason?: string;
}

async function history(c: TestClient, sessionKey: string): Promise<HistoryMessage[]> {
  const r = await c.request("chat.history", { sessionKey });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  return (r.payload as { messages: HistoryMessage[] }).messages;
}

const texts = (ms: HistoryMessage[]): string[] => ms.map((m) => m.content.map((p) => p.text ?? "").join(""));

/** Polls the session's history until `text` is in it (bounded); returns the history. */
async function mirrored(c: TestClient, sessionKey: string, text: string): Promise<HistoryMessage[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ms = await history(c, sessionKey);
    if (texts(ms).includes(text)) return ms;
    if (Date.now() > deadline) throw new Error(`"${text}" not mirrored into ${sessionKey}: ${JSON.stringify(texts(ms))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("send mirrors delivered text into the session transcript: once per key, derived and lower-cased keys, nothing for a failed delivery", async (t) => {
  const s = await startChannels(t, {});
  await s.api.runner("telegram")!.supervisor!.whenRunning();
  const { client: c } = await connectOk(s.gw.url);
  t.after(() => c.close());
  const send = (to: string, message: string, idempotencyKey: string, extra: Record<string, unknown> = {}) => c.request("send", { channel: "telegram", to, message, idempotencyKey, ...extra }, 10_000);

  // A DM target without sessionKey: the default agent's main session, created by the send.
  const first = await send("42", "first hello", "m-1");
  assert.equal(first.ok, true, JSON.stringify(first.error));
  let main = await mirrored(c, "agent:main:main", "first hello");
  const m = main.find((x) => texts([x])[0] === "first hello")!;
  assert.equal(m.role, "assistant");
  assert.equal(m.provider, "clawdbot");
  assert.equal(m.model, "delivery-mirror");
  assert.equal(m.stopReason, "stop");

  // The same key again is a replay: same answer, no second delivery, no second mirror.
  const again = await send("42", "first hello", "m-1");
  assert.deepEqual(again.payload, first.payload);
  assert.equal((await send("42", "second hello", "m-2")).ok, true);
  main = await mirrored(c, "agent:main:main", "second hello");
  assert.deepEqual(texts(main), ["first hello", "second hello"]);
  assert.equal(s.fake.sent.filter((x) => x.text === "first hello").length, 1);

  // An explicit session key is lower-cased; a group chat id derives the group's session.
  assert.equal((await send("42", "to the ops room", "m-3", { sessionKey: "Agent:Main:Ops-Room" })).ok, true);
  assert.deepEqual(texts(await mirrored(c, "agent:main:ops-room", "to the ops room")), ["to the ops room"]);
  assert.equal((await send("-100777", "group note", "m-4")).ok, true);
  assert.deepEqual(texts(await mirrored(c, "agent:main:telegram:group:-100777", "group note")), ["group note"]);

  // A delivery the platform refused is not mirrored.
  s.fake.failNext("sendMessage", 400);
  const refused = await send("42", "never delivered", "m-5");
  assert.equal(refused.ok, false);
  assert.equal((await send("42", "after the failure", "m-6")).ok, true);
  main = await mirrored(c, "agent:main:main", "after the failure");
  assert.deepEqual(texts(main), ["first hello", "second hello", "after the failure"]);
});
