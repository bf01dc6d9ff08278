/**
 * `--url` may point at another host (or another user's port): it must receive only the
 * credentials given for that call, never the local config's token, the generated token
 * or a stored device token. A fake gateway on loopback records what the CLI sends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WebSocketServer } from "ws";

import { loadOrCreateDeviceIdentity, saveDeviceToken } from "../../src/cli/device-identity-file.js";
import { makeCliEnv, runCli, type CliEnv } from "../helpers/cli.js";

const CONFIG_TOKEN = "config-token-0123456789abcdef-local";
const CONFIG_PASSWORD = "config-password-0123456789abcdef";
const GENERATED_TOKEN = "a".repeat(40) + "generated";
const DEVICE_TOKEN = "stored-device-token-0123456789";

interface Recorded {
  raw: string[];
  auth: () => Record<string, unknown> | undefined;
}

/** A loopback WS server that challenges, records `connect`, and answers like a gateway would. */
async function fakeGateway(t: { after: (fn: () => Promise<void>) => void }): Promise<{ url: string; seen: Recorded }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  t.after(() => new Promise<void>((r) => wss.close(() => r())));
  const raw: string[] = [];
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: Date.now() } }));
    ws.on("message", (data) => {
      const text = data.toString();
      raw.push(text);
      const f = JSON.parse(text) as { id: string; method: string };
      if (f.method === "connect") ws.send(JSON.stringify({ type: "res", id: f.id, ok: true, payload: { type: "hello-ok", protocol: 3 } }));
      else ws.send(JSON.stringify({ type: "res", id: f.id, ok: true, payload: { ok: true } }));
    });
  });
  const port = (wss.address() as { port: number }).port;
  const auth = (): Record<string, unknown> | undefined => {
    const connect = raw.map((r) => JSON.parse(r) as { method?: string; params?: { auth?: Record<string, unknown> } }).find((f) => f.method === "connect");
    return connect?.params?.auth;
  };
  return { url: `ws://127.0.0.1:${port}`, seen: { raw, auth } };
}

/** A CLI env whose local config, generated token file and device-token store all hold secrets. */
async function envWithLocalSecrets(t: { after: (fn: () => Promise<void>) => void }, auth: Record<string, string>): Promise<CliEnv> {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  await env.writeConfig({ gateway: { mode: "local", port: 1, auth } });
  await mkdir(join(env.stateDir, "gateway"), { recursive: true });
  await writeFile(join(env.stateDir, "gateway", "auth-token.json"), JSON.stringify({ token: GENERATED_TOKEN, createdAtMs: 1 }), { mode: 0o600 });
  const identity = await loadOrCreateDeviceIdentity(env.env.CLAWDBOT_DEVICE_IDENTITY_PATH);
  await saveDeviceToken(env.stateDir, identity.deviceId, "operator", DEVICE_TOKEN, ["operator.admin"]);
  return env;
}

function assertNoLocalSecret(seen: Recorded): void {
  const all = seen.raw.join("\n");
  for (const secret of [CONFIG_TOKEN, CONFIG_PASSWORD, GENERATED_TOKEN, DEVICE_TOKEN]) assert.ok(!all.includes(secret), `leaked ${secret}`);
}

test("gateway call --url sends no local config token, password, generated token or device token", async (t) => {
  const env = await envWithLocalSecrets(t, { token: CONFIG_TOKEN, password: CONFIG_PASSWORD });
  const gw = await fakeGateway(t);
  const r = await runCli(["gateway", "call", "health", "--url", gw.url], env.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(gw.seen.auth(), undefined, "no auth object at all");
  assertNoLocalSecret(gw.seen);
});

test("gateway call --url sends the credentials given explicitly (--token, --password, env)", async (t) => {
  const env = await envWithLocalSecrets(t, { token: CONFIG_TOKEN });
  const [a, b, c] = await Promise.all([fakeGateway(t), fakeGateway(t), fakeGateway(t)]);
  const [flag, fromEnv, pw] = await Promise.all([
    runCli(["gateway", "call", "health", "--url", a.url, "--token", "explicit-flag-token-0123456789"], env.env),
    runCli(["health", "--json", "--url", b.url], { ...env.env, CLAWDBOT_GATEWAY_TOKEN: "explicit-env-token-0123456789" }),
    runCli(["status", "--json", "--url", c.url, "--password", "explicit-password-0123456789"], env.env),
  ]);
  for (const r of [flag, fromEnv, pw]) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(a.seen.auth(), { token: "explicit-flag-token-0123456789" });
  assert.deepEqual(b.seen.auth(), { token: "explicit-env-token-0123456789" });
  assert.deepEqual(c.seen.auth(), { password: "explicit-password-0123456789" });
  for (const g of [a, b, c]) assertNoLocalSecret(g.seen);
});
