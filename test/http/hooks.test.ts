/** /hooks/* (§7.2): auth and its order, method and path rules, bodies, wake, agent, mappings, transforms. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { startGateway } from "../../src/main/gateway.js";
import { resolveHooksConfig } from "../../src/main/hooks/hooks-config.js";
import type { HookAgentRequest } from "../../src/main/hooks/hook-requests.js";
import { MAIN_SESSION_KEY } from "../../src/shared/store/sessions/sessions-info.js";
import { startTestGateway, testOptions, TEST_TOKEN } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";

const HOOK_TOKEN = "hook-token-abcdef0123456789";
const BEARER = { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" };

function post(port: number, path: string, body: unknown, headers: Record<string, string> = BEARER): ReturnType<typeof httpRequest> {
  return httpRequest(port, "POST", path, { headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

test("hooks: disabled by default (404), token required when enabled, path rules", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  assert.equal((await post(gw.port, "/hooks/wake", { text: "x" })).status, 404);
  assert.throws(() => resolveHooksConfig({ enabled: true }), /hooks.enabled requires hooks.token/);
  assert.throws(() => resolveHooksConfig({ enabled: true, token: "t", path: "/" }), /cannot be "\/"/);
  assert.equal(resolveHooksConfig({ enabled: true, token: "t", path: "/in/hooks//" }).path, "/in/hooks");
});

test("hooks: auth before method, header sources, ?token= refused, 405/404/413/400 shapes, wake", async (t) => {
  const heartbeats: string[] = [];
  const gw = await startTestGateway({
    hooks: { ...resolveHooksConfig({ enabled: true, token: HOOK_TOKEN }), maxBodyBytes: 1024 },
    extra: { hooks: { requestHeartbeat: (reason) => heartbeats.push(reason) } },
  });
  t.after(() => gw.close());
  const p = gw.port;

  const noToken = await httpRequest(p, "GET", "/hooks/wake");
  assert.equal(noToken.status, 401, "auth is checked before the method");
  assert.equal(noToken.body, "Unauthorized");
  assert.match(String(noToken.headers["content-type"]), /^text\/plain/);
  assert.equal((await post(p, "/hooks/wake", { text: "x" }, { authorization: `Bearer ${TEST_TOKEN}` })).status, 401, "the gateway token is not the hook token");

  const inQuery = await post(p, `/hooks/wake?token=${HOOK_TOKEN}`, { text: "x" });
  assert.equal(inQuery.status, 400, "a token in the URL is refused even with a valid header");
  assert.equal(JSON.parse(inQuery.body).ok, false);
  assert.deepEqual(gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY), [], "nothing happened");

  const get = await httpRequest(p, "GET", "/hooks/wake", { headers: BEARER });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, "POST");
  assert.equal((await post(p, "/hooks", {})).status, 404, "the base path itself");
  assert.equal((await post(p, "/hooks/", {})).status, 404);
  assert.equal((await post(p, "/hooks/nothing-mapped", {})).status, 404);
  assert.equal((await post(p, "/hooksy/wake", { text: "x" })).status, 404, "not under the base path");

  const big = await post(p, "/hooks/wake", { text: "x".repeat(2000) });
  assert.equal(big.status, 413);
  assert.equal(big.body, '{"ok":false,"error":"payload too large"}');
  const badJson = await post(p, "/hooks/wake", "{nope");
  assert.equal(badJson.status, 400);
  assert.equal(JSON.parse(badJson.body).ok, false);
  assert.match(JSON.parse(badJson.body).error as string, /JSON/);
  const noText = await post(p, "/hooks/wake", { text: "   " });
  assert.equal(noText.status, 400);
  assert.equal(noText.body, '{"ok":false,"error":"text required"}');
  assert.equal((await post(p, "/hooks/wake", "")).body, '{"ok":false,"error":"text required"}', "empty body = {}");
  assert.equal((await post(p, "/hooks/wake", "[1,2]")).body, '{"ok":false,"error":"text required"}', "non-object JSON = {}");

  const wake = await post(p, "/hooks/wake", { text: "  build done  " });
  assert.equal(wake.status, 200);
  assert.equal(wake.body, '{"ok":true,"mode":"now"}');
  const later = await post(p, "/hooks/wake", { text: "later", mode: "next-heartbeat" }, { "x-clawdbot-token": HOOK_TOKEN });
  assert.equal(later.body, '{"ok":true,"mode":"next-heartbeat"}');
  assert.deepEqual(gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY), ["build done", "later"]);
  assert.deepEqual(heartbeats, ["hook:wake"], "only mode now requests a heartbeat");
});

test("hooks: /agent validates, answers 202 with the runId it hands to runAgent", async (t) => {
  const runs: HookAgentRequest[] = [];
  const gw = await startTestGateway({
    hooks: resolveHooksConfig({ enabled: true, token: HOOK_TOKEN }),
    extra: { hooks: { runAgent: (r) => void runs.push(r) } },
  });
  t.after(() => gw.close());
  const p = gw.port;
  assert.equal((await post(p, "/hooks/agent", { name: "x" })).body, '{"ok":false,"error":"message required"}');
  const badChannel = await post(p, "/hooks/agent", { message: "m", channel: "carrier-pigeon" });
  assert.equal(badChannel.status, 400);
  assert.match(JSON.parse(badChannel.body).error as string, /^channel must be last\|whatsapp\|telegram/);
  assert.equal((await post(p, "/hooks/agent", { message: "m", model: " " })).body, '{"ok":false,"error":"model required"}');
  assert.equal(runs.length, 0, "no side effects for rejected requests");

  const ok = await post(p, "/hooks/agent", { message: " summarise ", model: "openai/gpt-x", channel: "imsg", deliver: 0, timeoutSeconds: 12.7 });
  assert.equal(ok.status, 202);
  const body = JSON.parse(ok.body) as { ok: boolean; runId: string };
  assert.equal(body.ok, true);
  assert.equal(runs.length, 1);
  const run = runs[0]!;
  assert.equal(run.runId, body.runId);
  assert.equal(run.message, "summarise");
  assert.equal(run.name, "Hook");
  assert.match(run.sessionKey, /^hook:[0-9a-f-]{36}$/);
  assert.equal(run.wakeMode, "now");
  assert.equal(run.deliver, true, "only a literal false disables delivery");
  assert.equal(run.channel, "imessage");
  assert.equal(run.model, "openai/gpt-x");
  assert.equal(run.timeoutSeconds, 12);
});

test("hooks: mappings render templates (explicit first, then the gmail preset); transforms override, skip (204) or fail (500)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-hooks-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const transforms = join(dir, "transforms");
  await mkdir(transforms);
  await writeFile(join(transforms, "t.mjs"), [
    "export default (ctx) => (ctx.payload.skip ? null : { text: `T:${ctx.payload.n}` });",
    "export function boom() { throw new Error('secret detail'); }",
  ].join("\n"));
  const runs: HookAgentRequest[] = [];
  const gw = await startTestGateway({
    stateDir: dir,
    hooks: resolveHooksConfig({
      enabled: true,
      token: HOOK_TOKEN,
      presets: ["gmail"],
      transformsDir: transforms,
      mappings: [
        { match: { path: "github" }, action: "wake", textTemplate: "PR {{pull_request.title}} by {{sender.login}} ({{headers.x-github-event}}; {{query.repo}}; {{missing.x}}{{__proto__}})" },
        { match: { path: "gmail" }, action: "agent", name: "Mine", messageTemplate: "explicit {{messages[0].id}}" },
        { match: { path: "t" }, action: "wake", textTemplate: "raw", transform: { module: "t.mjs" } },
        { match: { path: "boom" }, action: "wake", textTemplate: "raw", transform: { module: "t.mjs", export: "boom" } },
        { match: { path: "escape" }, action: "wake", textTemplate: "raw", transform: { module: "../../etc/passwd" } },
        { match: { source: "ci" }, action: "agent", messageTemplate: "from ci: {{status}}", sessionKey: "hook:ci:{{id}}" },
      ],
    }),
    extra: { hooks: { runAgent: (r) => void runs.push(r) } },
  });
  t.after(() => gw.close());
  const p = gw.port;

  const gh = await post(p, "/hooks/github?repo=clawgate", { pull_request: { title: "Fix" }, sender: { login: "ann" } }, { ...BEARER, "x-github-event": "pull_request" });
  assert.equal(gh.status, 200);
  assert.deepEqual(gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY), ["PR Fix by ann (pull_request; clawgate; )"]);

  const mail = await post(p, "/hooks/gmail", { messages: [{ id: "m1", from: "bob" }] });
  assert.equal(mail.status, 202);
  assert.equal(runs.at(-1)!.message, "explicit m1", "explicit mappings take precedence over presets");
  assert.equal(runs.at(-1)!.name, "Mine");

  const ci = await post(p, "/hooks/anything", { source: "ci", status: "green", id: 7 });
  assert.equal(ci.status, 202);
  assert.equal(runs.at(-1)!.message, "from ci: green");
  assert.equal(runs.at(-1)!.sessionKey, "hook:ci:7");

  assert.equal((await post(p, "/hooks/t", { n: 5 })).status, 200);
  assert.equal(gw.server.ctx.systemEvents.peek(MAIN_SESSION_KEY).at(-1), "T:5", "transform overrides");
  const skipped = await post(p, "/hooks/t", { skip: true });
  assert.equal(skipped.status, 204);
  const boom = await post(p, "/hooks/boom", {});
  assert.equal(boom.status, 500);
  assert.equal(boom.body, '{"ok":false,"error":"hook mapping failed"}');
  assert.equal((await post(p, "/hooks/escape", {})).status, 500, "a transform outside transformsDir is refused");
});

test("hooks: the gmail preset; failed hook auth feeds the auth rate limiter; start-up warns when the hook token is the gateway token", async (t) => {
  const runs: HookAgentRequest[] = [];
  const gw = await startTestGateway({
    trustedProxies: ["127.0.0.1"],
    hooks: resolveHooksConfig({ enabled: true, token: HOOK_TOKEN, presets: ["gmail"] }),
    extra: { hooks: { runAgent: (r) => void runs.push(r) } },
  });
  t.after(() => gw.close());
  const mail = await post(gw.port, "/hooks/gmail", { messages: [{ id: "abc", from: "bob@example.com", subject: "Hi", snippet: "snip" }] });
  assert.equal(mail.status, 202);
  assert.equal(runs[0]!.sessionKey, "hook:gmail:abc");
  assert.match(runs[0]!.message, /New email from bob@example\.com\nSubject: Hi\nsnip/);

  // A remote client (through a trusted proxy) guessing hook tokens runs out of attempts.
  const remote = { "x-forwarded-for": "203.0.113.9", "content-type": "application/json" };
  let status = 0;
  for (let i = 0; i < 12 && status !== 429; i++) status = (await post(gw.port, "/hooks/wake", { text: "x" }, { ...remote, authorization: `Bearer guess-${i}` })).status;
  assert.equal(status, 429);
  const locked = await post(gw.port, "/hooks/wake", { text: "x" }, { ...remote, authorization: `Bearer ${HOOK_TOKEN}` });
  assert.equal(locked.status, 429, "even the right token waits once the bucket is empty");
  assert.equal((await post(gw.port, "/hooks/wake", { text: "x" })).status, 200, "other clients are unaffected");

  const dir = await mkdtemp(join(tmpdir(), "clawgate-hooks-warn-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
  const same = await startGateway(testOptions(dir, { hooks: resolveHooksConfig({ enabled: true, token: TEST_TOKEN }) }), pino({ level: "warn" }, sink));
  t.after(() => same.stop());
  assert.ok(lines.some((l) => l.includes("hooks.token equals the gateway token")), lines.join(""));
  assert.ok(!lines.some((l) => l.includes(TEST_TOKEN)), "the token itself is never logged");
});
