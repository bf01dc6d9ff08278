/** `clawdbot pairing list|approve` on the channel pairing files (real CLI process). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeCliEnv, runCli } from "../helpers/cli.js";
import { ChannelPairingStore } from "../../src/main/channels/channel-pairing-store.js";

test("pairing list shows a pending code; approve moves the sender to the allow list; a bad code exits 1", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const store = new ChannelPairingStore(env.stateDir, "telegram");
  const req = (await store.upsert("4242", { username: "alice" }))!.request;
  const list = await runCli(["pairing", "list", "telegram", "--json"], env.env);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(JSON.parse(list.stdout).telegram[0].code, req.code);
  const human = await runCli(["pairing", "list"], env.env);
  assert.match(human.stdout, new RegExp(`telegram ${req.code} from 4242 \\(@alice\\)`));
  const ok = await runCli(["pairing", "approve", "telegram", req.code.toLowerCase()], env.env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Approved telegram sender 4242/);
  assert.deepEqual(await store.approved(), ["4242"]);
  const bad = await runCli(["pairing", "approve", "telegram", "NOPE1234"], env.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no pending telegram pairing request/);
});
