/**
 * The `send` transcript mirror (agents/delivery-mirror.ts) against a running turn: it waits on
 * the session's lane, so its line lands after the turn's lines and the transcript's parent
 * chain stays one line (each entry's parentId is the entry before it).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mirrorDelivery } from "../../src/main/agents/delivery-mirror.js";
import { readTranscript } from "../../src/shared/store/sessions/transcript.js";
import { agentTwoStage, startAgentGateway, type AgentGateway } from "./helpers/agent-gateway.js";

let h: AgentGateway;
before(async () => {
  h = await startAgentGateway();
});
after(async () => {
  await h?.close();
});

test("a mirror written while a turn runs on the session lands after the turn's lines, on one parent chain", async () => {
  h.openai.script("gpt-a", { type: "text", text: ["slow ", "turn ", "reply"], delayMs: 150 });
  const c = await h.connect();
  const key = "agent:main:lane-test";
  let turnDone = false;
  const turn = agentTwoStage(c, { message: "go", sessionKey: key, idempotencyKey: "lane-1" }).then((r) => {
    turnDone = true;
    return r;
  });
  // The run holds the lane once its stream has started.
  await c.next((f) => f.type === "event" && f.event === "agent" && f.payload?.runId === "lane-1" && f.payload?.stream === "assistant", 10_000);
  await mirrorDelivery(h.runtime, key, "sent while the turn ran");
  assert.equal(turnDone, true, "the mirror waited for the turn");
  const [, final] = await turn;
  assert.equal(final.ok, true, JSON.stringify(final));

  const store = await h.runtime.store("main");
  const tr = await readTranscript(store.transcriptPath(store.get(key)!));
  const msgs = tr.entries.filter((e) => e.type === "message") as { id: string; parentId: string | null; message: { role: string; model?: string; content: { text?: string }[] | string } }[];
  assert.deepEqual(
    msgs.map((e) => [e.message.role, e.message.model ?? null]),
    [["user", null], ["assistant", "gpt-a"], ["assistant", "delivery-mirror"]],
  );
  assert.equal((msgs[2]!.message.content as { text?: string }[])[0]!.text, "sent while the turn ran");
  for (let i = 1; i < tr.entries.length; i++) assert.equal(tr.entries[i]!.parentId, tr.entries[i - 1]!.id, `entry ${i} continues the chain`);
});
