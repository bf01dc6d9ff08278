/**
 * WhatsApp in the channels module, everything real above the fake Baileys socket: an inbound
 * DM runs the agent (fake model) and the reply goes back over the same socket; `send` goes
 * through the live socket or fails NOT_LINKED with the remedy; `web.login.start/wait` link a
 * new account over RPC; `channels.logout` deletes the credentials.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { SELF_JID } from "../fakes/fake-baileys-harness.js";
import { resolveHooksConfig } from "../../src/main/hooks/hooks-config.js";
import { httpRequest } from "../helpers/http-request.js";
import { until } from "./channels-helpers.js";
import { dmUpsert, startWhatsAppGateway } from "./whatsapp-gateway.js";

const PEER = "15552223333";
const HOOK_TOKEN = "hook-token-abcdef0123456789";

test("whatsapp: an inbound DM runs the agent and the reply is sent over the same socket; send uses the live socket; a hook run delivers to the last chat", async (t) => {
  const wa = { dmPolicy: "allowlist", allowFrom: [`+${PEER}`] };
  const { h, fake, api, stateDir } = await startWhatsAppGateway(t, { linked: true, channels: { whatsapp: wa }, hooks: resolveHooksConfig({ enabled: true, token: HOOK_TOKEN }) });
  await fake.sockets(1);
  fake.send({ op: "open", user: { id: SELF_JID } });
  await until(() => api.snapshots().whatsapp?.[0]?.connected === true, "whatsapp connected");

  h.openai.script("gpt-a", { type: "text", text: "hi from the agent" });
  fake.send(dmUpsert("M1", PEER, "hello agent"));
  fake.send(dmUpsert("M2", "15559990000", "not allowed"));
  await fake.waitFor(() => fake.of("send").length >= 1, "the reply on the socket");
  const [reply] = fake.of("send");
  assert.equal(reply!.jid, `${PEER}@s.whatsapp.net`);
  assert.equal(reply!.text, "hi from the agent");
  assert.match(JSON.stringify(h.openai.requestsFor("gpt-a")[0]!.body.messages), /hello agent/);
  assert.equal(h.openai.requestsFor("gpt-a").length, 1, "the sender not on allowFrom never reached the agent");
  const sessions = JSON.parse(await readFile(join(stateDir, "agents", "main", "sessions", "sessions.json"), "utf8")) as Record<string, Record<string, unknown>>;
  assert.equal(sessions["agent:main:main"]!.lastChannel, "whatsapp");
  assert.equal(sessions["agent:main:main"]!.lastTo, `${PEER}@s.whatsapp.net`);

  const c = await h.connect();
  const sent = await c.request("send", { channel: "whatsapp", to: `+${PEER}`, message: "outbound", idempotencyKey: "wa-send-1" });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.payload.channel, "whatsapp");
  assert.equal(sent.payload.toJid, `${PEER}@s.whatsapp.net`);
  await fake.waitFor(() => fake.of("send").length >= 2, "the send on the socket");
  assert.equal(fake.of("send")[1]!.text, "outbound");
  const status = await c.request("channels.status", {});
  assert.deepEqual(status.payload.channelOrder, ["whatsapp"]);
  assert.equal(status.payload.channels.whatsapp.linked, true);

  // `channels.whatsapp` is read live: a sender added to allowFrom is answered without a restart.
  wa.allowFrom.push("+15559990000");
  h.openai.script("gpt-a", { type: "text", text: "now you may" });
  fake.send(dmUpsert("M3", "15559990000", "and now?"));
  await fake.waitFor(() => fake.of("send").some((r) => r.text === "now you may"), "the reply to the newly allowed sender");
  assert.equal(fake.of("send").find((r) => r.text === "now you may")!.jid, "15559990000@s.whatsapp.net");

  // A hook run delivers its reply to the main session's last channel and recipient.
  h.openai.script("gpt-a", { type: "text", text: "digest: all good" });
  const hook = await httpRequest(h.gw.port, "POST", "/hooks/agent", { headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ message: "daily digest", name: "Digest" }) });
  assert.equal(hook.status, 202);
  await fake.waitFor(() => fake.of("send").some((r) => r.text === "digest: all good"), "the hook reply on WhatsApp");
  assert.equal(fake.of("send").find((r) => r.text === "digest: all good")!.jid, "15559990000@s.whatsapp.net", "lastTo is the latest chat");
});

test("whatsapp: send without a linked account fails NOT_LINKED with the login remedy", async (t) => {
  const { h } = await startWhatsAppGateway(t);
  const c = await h.connect();
  const res = await c.request("send", { to: "+15552223333", message: "hi", idempotencyKey: "wa-nl-1" });
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "NOT_LINKED");
  assert.equal(res.error?.message, "No active WhatsApp Web listener (account: default). Start the gateway, then link WhatsApp with: clawdbot channels login --channel whatsapp --account default.");
  const status = await c.request("channels.status", {});
  assert.equal(status.payload.channelAccounts.whatsapp[0].lastError, "not linked");
});

test("whatsapp: web.login.start returns a QR data URL, web.login.wait links after pairing + 515; logout deletes the credentials", async (t) => {
  const { h, fake, api, stateDir } = await startWhatsAppGateway(t);
  const c = await h.connect();
  const none = await c.request("web.login.wait", { timeoutMs: 1000 });
  assert.deepEqual(none.payload, { connected: false, message: "No active WhatsApp login in progress." });

  const started = c.request("web.login.start", {}, 60_000);
  await fake.sockets(1);
  fake.send({ op: "emit", event: "connection.update", data: { qr: "2@gwRef,noise,identity,adv" } });
  const start = await started;
  assert.equal(start.ok, true, JSON.stringify(start));
  assert.equal(start.payload.message, "Scan this QR in WhatsApp → Linked Devices.");
  assert.match(start.payload.qrDataUrl, /^data:image\/png;base64,/);

  const waiting = c.request("web.login.wait", { timeoutMs: 30_000 }, 40_000);
  fake.send({ op: "pair", me: SELF_JID });
  fake.send({ op: "close", status: 515, message: "Stream Errored (restart required)", wrapped: true });
  await fake.sockets(2);
  fake.send({ op: "open", user: { id: SELF_JID } });
  const linked = await waiting;
  assert.deepEqual(linked.payload, { connected: true, message: "✅ Linked! WhatsApp is ready." });
  assert.equal(api.snapshots().whatsapp![0]!.linked, true);
  const authDir = join(stateDir, "credentials", "whatsapp", "default");
  await stat(join(authDir, "creds.json"));

  const sent = await c.request("send", { channel: "whatsapp", to: "+15552223333", message: "now linked", idempotencyKey: "wa-after-login" });
  assert.equal(sent.ok, true, JSON.stringify(sent));

  const out = await c.request("channels.logout", { channel: "whatsapp" });
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.equal(out.payload.cleared, true);
  assert.equal(out.payload.wasRunning, true);
  await assert.rejects(stat(authDir), /ENOENT/);
  const after = await c.request("send", { channel: "whatsapp", to: "+15552223333", message: "gone", idempotencyKey: "wa-after-logout" });
  assert.equal(after.error?.code, "NOT_LINKED");
});
