import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI } from "../fakes/fake-openai.js";
import { runSessionTurn } from "../../src/workers/agent/session-turn.js";
import type { SessionTurnInput } from "../../src/workers/agent/session-turn.js";
import type { AgentEvent } from "../../src/workers/agent/agent-events.js";
import { readTranscript } from "../../src/shared/store/sessions/transcript.js";
import { configFor } from "./helpers/provider-config.js";

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const openai = await startFakeOpenAI();
  const stateDir = mkdtempSync(join(tmpdir(), "session-turn-"));
  t.after(async () => {
    await openai.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const config = { ...configFor({ openai }, "oa/gpt-a"), agents: { defaults: { model: "oa/gpt-a", workspace: join(stateDir, "ws") } } };
  const base = (over: Partial<SessionTurnInput> = {}): SessionTurnInput => ({
    stateDir, config, agentId: "main", sessionId: "s-1", sessionKey: "agent:main:main", runId: "r1", message: "hello", onEvent: () => undefined, ...over,
  });
  return { openai, stateDir, base, file: join(stateDir, "agents", "main", "sessions", "s-1.jsonl") };
}

test("a turn is in the transcript (§11.3) before its lifecycle end is emitted; the next turn sees it", async (t) => {
  const { openai, base, file } = await setup(t);
  openai.script("gpt-a", { type: "text", text: "first answer" }, { type: "text", text: "second answer" });
  let atEnd: string[] = [];
  const onEvent = (ev: AgentEvent): void => {
    if (ev.stream === "lifecycle" && ev.data.phase === "end") atEnd = readFileSync(file, "utf8").trimEnd().split("\n");
  };
  const first = await runSessionTurn(base({ onEvent }));
  assert.equal(first.turn.status, "ok");
  assert.equal(atEnd.length, 3, "header + user + assistant on disk when `end` went out");
  assert.deepEqual(first.record, { provider: "oa", model: "gpt-a", usage: { input: 11, output: 7, totalTokens: 11 }, aborted: false, contextTokens: 128000 });
  const second = await runSessionTurn(base({ runId: "r2", message: "again" }));
  assert.equal(second.turn.text, "second answer");
  const sent = openai.requests[1]!.body.messages as { role: string; content: unknown }[];
  assert.deepEqual(sent.slice(1).map((m) => [m.role, m.content]), [["user", "hello"], ["assistant", "first answer"], ["user", "again"]]);
  const read = await readTranscript(file);
  assert.equal(read.header?.id, "s-1");
  assert.equal(read.entries.length, 4);
  assert.equal(read.skipped, 0);
});

test("a torn transcript tail from a crash is repaired and the run goes on", async (t) => {
  const { openai, base, file } = await setup(t);
  openai.script("gpt-a", { type: "text", text: "a" }, { type: "text", text: "b" });
  await runSessionTurn(base());
  appendFileSync(file, '{"type":"message","id":"torn","mess');
  const r = await runSessionTurn(base({ runId: "r2" }));
  assert.equal(r.turn.status, "ok");
  const read = await readTranscript(file);
  assert.equal(read.tornTail, false);
  assert.equal(read.skipped, 0);
  assert.equal(read.entries.length, 4);
});

test("no model configured: lifecycle start then error at once, naming agents.defaults.model; nothing written", async (t) => {
  const { openai, base, file } = await setup(t);
  const events: AgentEvent[] = [];
  const r = await runSessionTurn(base({ config: {}, onEvent: (ev) => events.push(ev) }));
  assert.equal(r.turn.error?.code, "GW_ERR_AGENT_NO_MODEL");
  assert.deepEqual(events.map((e) => [e.seq, e.data.phase]), [[1, "start"], [2, "error"]]);
  assert.match(String(events[1]!.data.error), /agents\.defaults\.model/);
  assert.equal(openai.requests.length, 0);
  assert.equal(existsSync(file), false);
});

test("the workspace's bootstrap files reach the system prompt in order; missing, empty and symlinked ones do not; long ones are cut", async (t) => {
  const { openai, base, stateDir } = await setup(t);
  const { mkdirSync, writeFileSync, symlinkSync } = await import("node:fs");
  const ws = join(stateDir, "ws");
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, "SOUL.md"), "Speak like a lighthouse keeper.\n");
  writeFileSync(join(ws, "AGENTS.md"), "Always answer in one line.\n");
  writeFileSync(join(ws, "IDENTITY.md"), "   \n");
  writeFileSync(join(ws, "TOOLS.md"), `${"t".repeat(25_000)}END-OF-TOOLS`);
  const secret = join(stateDir, "outside-secret.txt");
  writeFileSync(secret, "the secret outside the workspace");
  symlinkSync(secret, join(ws, "USER.md"));
  openai.script("gpt-a", { type: "text", text: "ok" });
  const out = await runSessionTurn(base({ sessionId: "s-ctx", runId: "r-ctx" }));
  assert.equal(out.turn.status, "ok");
  const system = (openai.requests.at(-1)!.body.messages as { role: string; content: string }[])[0]!;
  assert.equal(system.role, "system");
  const sections = [...system.content.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, ["AGENTS.md", "SOUL.md", "TOOLS.md"], "prompt order; IDENTITY.md (blank) and USER.md (a symlink) left out");
  assert.match(system.content, /## AGENTS\.md\n\nAlways answer in one line\./);
  assert.match(system.content, /SOUL\.md describes your persona and tone/);
  assert.doesNotMatch(system.content, /the secret outside the workspace/);
  assert.doesNotMatch(system.content, /END-OF-TOOLS/);
  assert.match(system.content, /\[… cut: the file has 25012 bytes; its first 20000 characters are shown\]/);
});
