/** POST /tools/invoke (§7.3): shared auth, body rules, tool policy (404), results and tool errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";

const AUTH = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };

test("/tools/invoke: auth, 405, body limits, policy, results in the workspace", async (t) => {
  const ws = await mkdtemp(join(tmpdir(), "clawgate-tools-ws-"));
  t.after(() => rm(ws, { recursive: true, force: true }));
  await writeFile(join(ws, "notes.txt"), "line one\nline two\n");
  const gw = await startTestGateway({ agentRuntime: { agents: { defaults: { workspace: ws } }, tools: { deny: ["edit"] } } });
  t.after(() => gw.close());
  const p = gw.port;
  const call = (body: unknown, headers: Record<string, string> = AUTH): ReturnType<typeof httpRequest> =>
    httpRequest(p, "POST", "/tools/invoke", { headers, body: typeof body === "string" ? body : JSON.stringify(body) });

  const noAuth = await call({ tool: "read", args: { path: "notes.txt" } }, {});
  assert.equal(noAuth.status, 401);
  assert.equal(noAuth.body, '{"error":{"message":"Unauthorized","type":"unauthorized"}}');
  assert.equal((await call({ tool: "read" }, { authorization: "Bearer wrong" })).status, 401);
  const get = await httpRequest(p, "GET", "/tools/invoke", { headers: AUTH });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, "POST");

  const noTool = await call({ args: {} });
  assert.equal(noTool.status, 400);
  assert.deepEqual(JSON.parse(noTool.body), { error: { message: "tools.invoke requires body.tool", type: "invalid_request_error" } });
  const badJson = await call("{x");
  assert.equal(badJson.status, 400);
  assert.equal(JSON.parse(badJson.body).error.type, "invalid_request_error");
  const tooBig = await call({ tool: "read", pad: "x".repeat(2 * 1024 * 1024) });
  assert.equal(tooBig.status, 400);
  assert.equal(JSON.parse(tooBig.body).error.type, "invalid_request_error");

  for (const name of ["edit", "exec", "nope"]) {
    const denied = await call({ tool: name, args: {} });
    assert.equal(denied.status, 404, name);
    assert.deepEqual(JSON.parse(denied.body), { ok: false, error: { type: "not_found", message: `Tool not available: ${name}` } });
  }

  const read = await call({ tool: "read", args: { path: "notes.txt" } });
  assert.equal(read.status, 200, read.body);
  const out = JSON.parse(read.body) as { ok: boolean; result: { text: string; isError: boolean } };
  assert.equal(out.ok, true);
  assert.match(out.result.text, /line one\nline two/);

  const wrote = await call({ tool: "write", args: { path: "sub/new.txt", content: "hello" } });
  assert.equal(wrote.status, 200, wrote.body);
  assert.equal(await readFile(join(ws, "sub", "new.txt"), "utf8"), "hello");

  const missing = await call({ tool: "read", args: { path: "absent.txt" } });
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.body).error.type, "tool_error");
  const escape = await call({ tool: "read", args: { path: "../../etc/passwd" } });
  assert.equal(escape.status, 400, "paths stay inside the workspace");
  assert.equal(JSON.parse(escape.body).error.type, "tool_error");
});
