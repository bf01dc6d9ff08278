/** The HTTP mount table: §7.1 order whatever the mount order, 405 vs fall-through, 404 last, 500 on a failing handler. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HTTP_STAGES, HttpMountTable, type HttpHandler, type HttpMount } from "../../src/main/http/mount-table.js";
import { trackResponse } from "../../src/main/http/response-state.js";
import { startTestGateway } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";

const noop: HttpHandler = () => undefined;

function owner(table: HttpMountTable, method: string, path: string): string {
  const r = table.lookup(method, path);
  if (r.kind === "none") return "404";
  if (r.kind === "method-not-allowed") return `405 ${r.allow}`;
  return r.mount.stage;
}

test("entries run in §7.1 stage order whatever order the modules mounted them in", () => {
  const table = new HttpMountTable();
  let chatEnabled = false;
  // Deliberately mounted back to front.
  const mounts: HttpMount[] = [
    { stage: "control-ui", path: { prefix: "/" }, methods: ["GET", "HEAD"], handler: noop },
    { stage: "canvas", path: { prefix: "/__clawdbot__/canvas" }, methods: ["GET", "HEAD"], handler: noop },
    { stage: "a2ui", path: { prefix: "/__clawdbot__/a2ui" }, methods: ["GET", "HEAD"], handler: noop },
    { stage: "chat-completions", path: { exact: "/v1/chat/completions" }, methods: ["POST"], enabled: () => chatEnabled, handler: noop },
    { stage: "tools", path: { exact: "/tools/invoke" }, methods: ["POST"], handler: noop },
    { stage: "hooks", path: { prefix: "/hooks/" }, handler: noop },
  ];
  for (const m of mounts) table.mount(m);
  assert.deepEqual(
    table.list().map((m) => m.stage),
    ["hooks", "tools", "chat-completions", "a2ui", "canvas", "control-ui"],
  );
  const order = table.list().map((m) => HTTP_STAGES.indexOf(m.stage));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));

  // Hooks take every method under their prefix (they check auth before the method, §7.2).
  assert.equal(owner(table, "POST", "/hooks"), "hooks");
  assert.equal(owner(table, "GET", "/hooks/agent"), "hooks");
  // A prefix claims whole segments only.
  assert.equal(owner(table, "GET", "/hooksy"), "control-ui");
  assert.equal(owner(table, "GET", "/__clawdbot__/a2ui/index.html"), "a2ui");
  assert.equal(owner(table, "GET", "/__clawdbot__/canvas"), "canvas");
  // A claimed path with another method: 405 with Allow, not the next entry.
  assert.equal(owner(table, "GET", "/tools/invoke"), "405 POST");
  // A disabled endpoint claims nothing; with the UI mounted an unclaimed POST gets the UI's 405 (§7.1 consequence).
  assert.equal(owner(table, "POST", "/v1/chat/completions"), "405 GET, HEAD");
  chatEnabled = true;
  assert.equal(owner(table, "POST", "/v1/chat/completions"), "chat-completions");
  assert.equal(owner(table, "GET", "/anything/else"), "control-ui");
});

test("without a catch-all nothing claims → 404; otherMethods 'next' falls through; same-stage entries keep mount order; unmount", () => {
  const table = new HttpMountTable();
  const first = table.mount({ stage: "plugins", path: { prefix: "/p" }, methods: ["GET"], otherMethods: "next", handler: noop });
  table.mount({ stage: "plugins", path: { exact: "/p/x" }, methods: ["POST"], handler: noop });
  assert.equal(owner(table, "GET", "/p/x"), "plugins");
  assert.equal(owner(table, "POST", "/p/x"), "plugins");
  assert.equal(owner(table, "DELETE", "/p/x"), "405 POST");
  assert.equal(owner(table, "DELETE", "/p/y"), "404");
  assert.equal(owner(table, "GET", "/q"), "404");
  first();
  assert.equal(owner(table, "GET", "/p/x"), "405 POST");
  assert.throws(() => table.mount({ stage: "hooks", path: { prefix: "hooks" }, handler: noop }), /must start with/);
});

test("on a real gateway: mounted entries answer over sockets, 405 carries Allow, probes keep precedence, failing handlers get 500", async (t) => {
  const seen: string[] = [];
  const gw = await startTestGateway({
    extra: {
      http: {
        register: (table) => {
          // A catch-all UI mounted before the probes' stage would run first if order were mount order.
          table.mount({ stage: "control-ui", path: { prefix: "/" }, methods: ["GET", "HEAD"], handler: (res, _req, m) => {
            seen.push(`ui ${m.method} ${m.path}`);
            res.end("ui");
          } });
          table.mount({ stage: "tools", path: { exact: "/tools/test-entry" }, methods: ["POST"], handler: (res) => {
            res.end("tools");
          } });
          table.mount({ stage: "plugins", path: { prefix: "/boom" }, handler: (_res, _req, m) => {
            if (m.method === "GET") throw new Error("secret internals");
            trackResponse(_res);
            return Promise.reject(new Error("async internals"));
          } });
        },
      },
    },
  });
  t.after(() => gw.close());

  const health = await httpRequest(gw.port, "GET", "/healthz");
  assert.equal(health.status, 200);
  assert.match(health.body, /"ok":true/);
  assert.deepEqual(seen, [], "the UI's catch-all did not shadow a probe");

  assert.equal((await httpRequest(gw.port, "GET", "/some/page?x=1")).body, "ui");
  assert.deepEqual(seen, ["ui GET /some/page"]);
  assert.equal((await httpRequest(gw.port, "POST", "/tools/test-entry", { body: "{}" })).body, "tools");

  const wrongMethod = await httpRequest(gw.port, "GET", "/tools/test-entry");
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.allow, "POST");
  const uiWrongMethod = await httpRequest(gw.port, "POST", "/not-claimed", { body: "x" });
  assert.equal(uiWrongMethod.status, 405);
  assert.equal(uiWrongMethod.headers.allow, "GET, HEAD");

  for (const method of ["GET", "POST"]) {
    const boom = await httpRequest(gw.port, method, "/boom");
    assert.equal(boom.status, 500, `${method} /boom`);
    assert.equal(boom.body, "Internal Server Error");
  }
  // Still serving.
  assert.equal((await httpRequest(gw.port, "GET", "/readyz")).status, 200);
});
