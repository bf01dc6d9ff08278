/** Bearer auth over real sockets: good, bad, missing, extra header, query tokens, shared auth modes, 401 shapes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { requireBearer, type BearerAuthOptions } from "../../src/main/http/bearer-auth.js";
import type { ResolvedAuth } from "../../src/main/auth/shared-auth.js";
import { startTestGateway } from "../helpers/gateway.js";
import { httpRequest } from "../helpers/http-request.js";

const SECRET = "hook-secret-0123456789";
const JSON_401 = '{"error":{"message":"Unauthorized","type":"unauthorized"}}';

test("bearer auth on mounted routes", { timeout: 30_000 }, async (t) => {
  let shared: ResolvedAuth = { mode: "password", password: "pw-0123456789" };
  const routes: Record<string, BearerAuthOptions> = {
    "/json": { expect: () => ({ secret: SECRET }) },
    "/text": { expect: () => ({ secret: SECRET }), style: "text", header: "x-clawdbot-token", query: "accept" },
    "/ignore": { expect: () => ({ secret: SECRET }), query: "ignore" },
    "/shared": { expect: () => ({ auth: shared }) },
  };
  const gw = await startTestGateway({
    extra: {
      http: {
        register: (table) => {
          for (const [path, opts] of Object.entries(routes)) {
            table.mount({
              stage: "plugins",
              path: { exact: path },
              handler: (res, req) => {
                if (!requireBearer(res, req, opts)) return;
                res.end("in");
              },
            });
          }
        },
      },
    },
  });
  t.after(() => gw.close());
  const call = async (path: string, headers: Record<string, string> = {}): Promise<string> => {
    const r = await httpRequest(gw.port, "POST", path, { headers, body: "" });
    if (r.status === 200) return r.body;
    assert.equal(r.status, 401, `${path}: ${r.status}`);
    if (r.body === JSON_401) {
      assert.equal(r.headers["content-type"], "application/json; charset=utf-8");
      return "401 json";
    }
    assert.equal(r.body, "Unauthorized");
    assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
    return "401 text";
  };
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  // Good, bad, missing; scheme case-insensitive; a prefix or extension of the secret is not the secret.
  assert.equal(await call("/json", bearer(SECRET)), "in");
  assert.equal(await call("/json", { authorization: `bearer   ${SECRET}  ` }), "in");
  assert.equal(await call("/json", bearer("wrong")), "401 json");
  assert.equal(await call("/json", bearer(SECRET.slice(0, -1))), "401 json");
  assert.equal(await call("/json", bearer(`${SECRET}x`)), "401 json");
  assert.equal(await call("/json"), "401 json");
  assert.equal(await call("/json", { authorization: `Basic ${SECRET}` }), "401 json");
  assert.equal(await call("/json", { authorization: "Bearer " }), "401 json");
  // The extra header only counts where configured.
  assert.equal(await call("/json", { "x-clawdbot-token": SECRET }), "401 json");

  // Query tokens: refused by default even next to a good header (URLs leak into logs).
  assert.equal(await call(`/json?token=${SECRET}`), "401 json");
  assert.equal(await call(`/json?token=${SECRET}`, bearer(SECRET)), "401 json");
  assert.equal(await call(`/json?other=1&token=x`, bearer(SECRET)), "401 json");
  // "ignore" does not look at the query at all.
  assert.equal(await call(`/ignore?token=${SECRET}`, bearer(SECRET)), "in");
  assert.equal(await call(`/ignore?token=${SECRET}`), "401 json");

  // Hooks style (§7.2): Bearer → x-clawdbot-token → ?token=, text 401.
  assert.equal(await call("/text", { "x-clawdbot-token": SECRET }), "in");
  assert.equal(await call(`/text?token=${encodeURIComponent(SECRET)}`), "in");
  assert.equal(await call("/text", { "x-clawdbot-token": "nope" }), "401 text");
  assert.equal(await call("/text?token=nope"), "401 text");
  assert.equal(await call("/text"), "401 text");
  // Authorization wins over the other sources.
  assert.equal(await call(`/text?token=${SECRET}`, bearer("wrong")), "401 text");

  // Shared auth (§7.3): the bearer value is tried as the password / token; read per request.
  assert.equal(await call("/shared", bearer("pw-0123456789")), "in");
  assert.equal(await call("/shared", bearer("nope")), "401 json");
  shared = { mode: "token", token: "tok-0123456789" };
  assert.equal(await call("/shared", bearer("tok-0123456789")), "in");
  assert.equal(await call("/shared", bearer("pw-0123456789")), "401 json");
  assert.equal(await call("/shared"), "401 json");
  shared = { mode: "none" };
  assert.equal(await call("/shared"), "in");
});
