/** Which gateway the Control UI connects to (`?gatewayUrl=`, CVE-2026-25253) and the `#token=` fragment. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isLoopbackHost, resolveTarget, takeFragmentToken } from "../../src/control-ui/target.js";

const at = (search: string, protocol = "http:", host = "127.0.0.1:18789") => resolveTarget({ protocol, host, search });

test("no gatewayUrl: the page's own gateway, no confirmation needed", () => {
  assert.deepEqual(at(""), { url: "ws://127.0.0.1:18789", explicit: false });
  assert.deepEqual(at("", "https:", "gw.example.com"), { url: "wss://gw.example.com", explicit: false });
  assert.deepEqual(at("?gatewayUrl="), { url: "ws://127.0.0.1:18789", explicit: false });
});

test("gatewayUrl: always explicit (asks first); ws:// only to loopback", () => {
  assert.deepEqual(at(`?gatewayUrl=${encodeURIComponent("wss://gw.example.com:8443/x?token=a#b")}`), { url: "wss://gw.example.com:8443/x", explicit: true });
  assert.deepEqual(at(`?gatewayUrl=${encodeURIComponent("ws://127.0.0.1:18790")}`), { url: "ws://127.0.0.1:18790", explicit: true });
  assert.deepEqual(at(`?gatewayUrl=${encodeURIComponent("ws://localhost:1")}`), { url: "ws://localhost:1", explicit: true });
  assert.deepEqual(at(`?gatewayUrl=${encodeURIComponent("ws://[::1]:1")}`), { url: "ws://[::1]:1", explicit: true });
  for (const bad of ["ws://10.20.30.40:18789", "ws://evil.example", "ws://127.0.0.1.evil.example", "ws://0.0.0.0:1", "ws://[::ffff:10.0.0.1]:1"]) {
    const r = at(`?gatewayUrl=${encodeURIComponent(bad)}`);
    assert.equal(r.url, "", bad);
    assert.match(r.refused ?? "", /refusing unencrypted ws:\/\//, bad);
  }
  assert.match(at("?gatewayUrl=http%3A%2F%2Fx").refused ?? "", /ws:\/\/ or wss:\/\//);
  assert.match(at("?gatewayUrl=javascript:alert(1)").refused ?? "", /ws:\/\/ or wss:\/\//);
  assert.match(at("?gatewayUrl=not%20a%20url").refused ?? "", /not a valid URL/);
  assert.match(at(`?gatewayUrl=${encodeURIComponent("wss://u:p@gw.example.com")}`).refused ?? "", /credentials/);
});

test("loopback host names", () => {
  for (const h of ["localhost", "a.localhost", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "::ffff:127.0.0.1"]) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ["10.0.0.1", "localhost.example", "127.0.0.1.nip.io", "0.0.0.0", "::", "[::2]"]) assert.equal(isLoopbackHost(h), false, h);
});

test("#token= is taken out of the fragment; other fragment parts stay", () => {
  assert.deepEqual(takeFragmentToken("#token=abc"), { token: "abc", rest: "" });
  assert.deepEqual(takeFragmentToken("#token=abc&tab=chat"), { token: "abc", rest: "#tab=chat" });
  assert.deepEqual(takeFragmentToken("#tab=chat"), { token: null, rest: "#tab=chat" });
  assert.deepEqual(takeFragmentToken(""), { token: null, rest: "" });
  assert.deepEqual(takeFragmentToken("#token="), { token: null, rest: "" });
});
