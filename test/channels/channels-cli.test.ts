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

test("message send and channels status|logout go through the gateway (human and --json output)", async (t) => {
  const { startChannels } = await import("./channels-helpers.js");
  const { TEST_TOKEN } = await import("../helpers/gateway.js");
  const s = await startChannels(t, { dmPolicy: "open" });
  await s.api.runner("telegram")!.supervisor!.whenRunning();
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const target = ["--url", s.gw.url, "--token", TEST_TOKEN];
  const args = ["message", "send", "--channel", "telegram", "--target", "99", "--message", "from the cli", "--idempotency-key", "cli-1", ...target];
  const sent = await runCli([...args, "--json"], env.env);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(JSON.parse(sent.stdout).runId, "cli-1");
  const again = await runCli(args, env.env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Sent via telegram to 99/);
  assert.equal(s.fake.sent.length, 1, "same key: delivered once");
  const status = await runCli(["channels", "status", ...target], env.env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /telegram default: connected · mode polling/);
  const out = await runCli(["channels", "logout", "--channel", "telegram", "--json", ...target], env.env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).loggedOut, true);
  const refused = await runCli([...args.slice(0, -4), "--idempotency-key", "cli-2", ...target], env.env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not running \(logged out\)/);
});
