/** The handshake failure matrix (§2.11) and hello-ok (§2.10), over real sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { TestClient, buildConnectParams, connectClient, connectOk } from "../helpers/client.js";
import { validator } from "../../src/shared/protocol/validate.js";

const validateHelloOk = validator("HelloOk");
const validateEventFrame = validator("EventFrame");

async function withGateway(t: { after: (fn: () => Promise<void>) => void }, o: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(o);
  t.after(() => gw.close());
  return gw;
}

test("connect.challenge is pushed on open, without seq", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  t.after(() => c.close());
  const f = await c.event("connect.challenge");
  assert.equal(typeof f.payload.nonce, "string");
  assert.match(f.payload.nonce, /^[0-9a-f-]{36}$/);
  assert.equal(typeof f.payload.ts, "number");
  assert.equal(f.seq, undefined);
  assert.ok(validateEventFrame(f));
});

test("a valid connect returns hello-ok matching the schema, with resolved paths and default policy", async (t) => {
  const gw = await withGateway(t);
  const { client, hello } = await connectOk(gw.url);
  t.after(() => client.close());
  assert.ok(validateHelloOk(hello), JSON.stringify(validateHelloOk.errors));
  assert.equal(hello.type, "hello-ok");
  assert.equal(hello.protocol, 3);
  assert.equal(hello.snapshot.stateDir, gw.stateDir);
  assert.equal(hello.snapshot.configPath, `${gw.stateDir}/clawdbot.json`);
  assert.deepEqual(hello.policy, { maxPayload: 524288, maxBufferedBytes: 1572864, tickIntervalMs: 30000 });
  assert.ok(hello.features.methods.includes("health"));
  assert.ok(hello.features.events.includes("connect.challenge"));
  assert.equal(hello.auth, undefined, "no device, no device token");
  assert.ok(Array.isArray(hello.snapshot.presence));
  assert.ok(hello.snapshot.presence.some((p: { reason?: string }) => p.reason === "self"));
});

test("no connect within the handshake timeout closes 1000 without reason", async (t) => {
  const gw = await withGateway(t, { handshakeTimeoutMs: 150 });
  const c = await TestClient.open(gw.url);
  const closed = await c.closed;
  assert.equal(closed.code, 1000);
  assert.equal(closed.reason, "");
});

test("non-JSON first frame closes 1000 without reason", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  await c.challenge();
  c.sendRaw("{not json");
  assert.deepEqual(await c.closed, { code: 1000, reason: "" });
});

test("JSON that is not a request frame closes 1008 'invalid request frame' with no response", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  await c.challenge();
  c.send({ type: "req", id: "x" });
  assert.deepEqual(await c.closed, { code: 1008, reason: "invalid request frame" });
  assert.equal(c.frames.filter((f) => f.type === "res").length, 0);
});

test("a first request other than connect is answered with the same id, then closed 1008", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  await c.challenge();
  const res = await c.request("health");
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "INVALID_REQUEST");
  assert.equal(res.error?.message, "invalid handshake: first request must be connect");
  assert.deepEqual(await c.closed, { code: 1008, reason: "invalid handshake: first request must be connect" });
});

test("invalid connect params: bad client.id and malformed device, reason truncated to 120 bytes", async (t) => {
  const gw = await withGateway(t);
  const c = await TestClient.open(gw.url);
  const nonce = await c.challenge();
  const params = buildConnectParams(nonce, { client: { id: "not-a-client" }, extra: { device: { id: 1 } } });
  const res = await c.request("connect", params);
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "INVALID_REQUEST");
  assert.match(res.error!.message, /^invalid connect params: /);
  assert.match(res.error!.message, /at \/client\/id: must be equal to constant/);
  const closed = await c.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /^invalid connect params/);
  assert.ok(Buffer.byteLength(closed.reason) <= 120);
});

test("closed objects: an unexpected property is named in reference format", async (t) => {
  const gw = await withGateway(t);
  const { res } = await connectClient(gw.url, { extra: { bogus: true } });
  assert.equal(res.error?.message, "invalid connect params: at root: unexpected property 'bogus'");
});

test("protocol range excluding 3 → protocol mismatch, close 1002", async (t) => {
  const gw = await withGateway(t);
  const { client, res } = await connectClient(gw.url, { minProtocol: 4, maxProtocol: 4 });
  assert.equal(res.error?.code, "INVALID_REQUEST");
  assert.equal(res.error?.message, "protocol mismatch");
  assert.deepEqual(res.error?.details, { expectedProtocol: 3 });
  assert.deepEqual(await client.closed, { code: 1002, reason: "protocol mismatch" });
  const ok = await connectOk(gw.url, { minProtocol: 1, maxProtocol: 5 });
  assert.equal(ok.hello.protocol, 3);
  ok.client.close();
});

test("unknown role → invalid role, close 1008", async (t) => {
  const gw = await withGateway(t);
  const { client, res } = await connectClient(gw.url, { role: "admin" });
  assert.equal(res.error?.message, "invalid role");
  assert.deepEqual(await client.closed, { code: 1008, reason: "invalid role" });
});

test("Control UI without device needs allowInsecureAuth", async (t) => {
  const gw = await withGateway(t);
  const ui = { client: { id: "clawdbot-control-ui", mode: "ui", platform: "web" } };
  const { client, res } = await connectClient(gw.url, ui);
  assert.equal(res.error?.message, "control ui requires HTTPS or localhost (secure context)");
  assert.equal((await client.closed).code, 1008);

  const gw2 = await withGateway(t, { controlUi: { enabled: true, basePath: "", allowInsecureAuth: true, allowedOrigins: [] } });
  const ok = await connectOk(gw2.url, ui);
  assert.equal(ok.hello.type, "hello-ok");
  ok.client.close();
  const missing = await connectClient(gw2.url, { ...ui, token: "wrong" });
  assert.match(missing.res.error!.message, /open a tokenized dashboard URL or paste token in Control UI settings/);
});

test("no device and no token → NOT_PAIRED device identity required", async (t) => {
  const gw = await withGateway(t);
  const { client, res } = await connectClient(gw.url, { token: null });
  assert.equal(res.error?.code, "NOT_PAIRED");
  assert.equal(res.error?.message, "device identity required");
  assert.deepEqual(await client.closed, { code: 1008, reason: "device identity required" });
});

test("token auth: mismatch messages carry the client-specific hint", async (t) => {
  const gw = await withGateway(t);
  const other = await connectClient(gw.url, { token: "nope" });
  assert.equal(other.res.error?.message, "unauthorized: gateway token mismatch (provide gateway auth token)");
  assert.equal((await other.client.closed).code, 1008);
  const cli = await connectClient(gw.url, { token: "nope", client: { id: "cli", mode: "cli" } });
  assert.equal(cli.res.error?.message, "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)");
  const ok = await connectOk(gw.url, { token: TEST_TOKEN });
  ok.client.close();
});

test("password auth: correct accepted, wrong and missing rejected", async (t) => {
  const gw = await withGateway(t, { auth: { mode: "password", password: "s3cret-pass" } });
  // Without a device a shared token field is required to get past "device identity required".
  const ok = await connectOk(gw.url, { token: "x", password: "s3cret-pass" });
  ok.client.close();
  const wrong = await connectClient(gw.url, { token: "x", password: "nope" });
  assert.equal(wrong.res.error?.message, "unauthorized: gateway password mismatch (provide gateway auth password)");
  const missing = await connectClient(gw.url, { token: "x" });
  assert.equal(missing.res.error?.message, "unauthorized: gateway password missing (provide gateway auth password)");
});

test("a second connect is routed as a method and refused", async (t) => {
  const gw = await withGateway(t);
  const { client } = await connectOk(gw.url);
  t.after(() => client.close());
  const res = await client.request("connect", buildConnectParams(undefined));
  assert.equal(res.error?.message, "connect is only valid as the first request");
  const ro = await connectOk(gw.url, { scopes: ["operator.read"] });
  const res2 = await ro.client.request("connect", {});
  assert.equal(res2.error?.message, "missing scope: operator.admin");
  ro.client.close();
});

test("frames over maxPayload close the socket with 1009", async (t) => {
  const gw = await withGateway(t, { policy: { maxPayload: 4096, maxBufferedBytes: 1572864, tickIntervalMs: 30000 } });
  const { client, hello } = await connectOk(gw.url);
  assert.equal(hello.policy.maxPayload, 4096);
  client.send({ type: "req", id: "big", method: "health", params: { pad: "x".repeat(8192) } });
  const closed = await client.closed;
  assert.equal(closed.code, 1009);
});
