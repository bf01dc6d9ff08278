/**
 * Who is local: proxy headers from a peer outside `gateway.trustedProxies`, and which
 * `X-Forwarded-For` entry a trusted proxy's request is attributed to. Real sockets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.js";
import { connectClient, connectOk } from "../helpers/client.js";
import { createDevice } from "../helpers/device.js";
import { classifyPeer, resolveClientIp } from "../../src/main/auth/client-ip.js";

test("proxy headers from an untrusted loopback peer make the client remote: a new device is not paired silently", async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const variants: Record<string, string>[] = [{ "X-Forwarded-For": "203.0.113.7" }, { "X-Real-IP": "203.0.113.7" }];
  for (const headers of variants) {
    const device = createDevice();
    const r = await connectClient(gw.url, { device, headers });
    assert.equal(r.res.error?.code, "NOT_PAIRED", JSON.stringify(headers));
    assert.equal(r.res.error?.message, "pairing required");
    assert.equal(gw.instance.devices.getPaired(device.id), undefined);
  }
  // Without the headers the same kind of client is local and paired silently.
  const device = createDevice();
  const ok = await connectOk(gw.url, { device });
  ok.client.close();
  assert.ok(gw.instance.devices.getPaired(device.id));
});

test("with a trusted proxy, the right-most untrusted X-Forwarded-For entry is the client", async (t) => {
  const gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
  t.after(() => gw.close());
  // A forged loopback entry on the left does not make the client local.
  const device = createDevice();
  const r = await connectClient(gw.url, { device, headers: { "X-Forwarded-For": "127.0.0.1, 203.0.113.7" } });
  assert.equal(r.res.error?.message, "pairing required");
  // Rotating the forged left entry does not dodge the failed-auth limiter.
  let limited = false;
  for (let i = 0; i < 15 && !limited; i++) {
    const { res } = await connectClient(gw.url, { token: "wrong", headers: { "X-Forwarded-For": `198.51.100.${i}, 203.0.113.9` } });
    limited = /too many failed/.test(res.error?.message ?? "");
  }
  assert.ok(limited, "rotating the left-most entry dodged the limiter");
});

test("classifyPeer: untrusted proxy headers → remote; trusted chains are read from the right", () => {
  const none: string[] = [];
  assert.deepEqual(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost" }, none), { clientIp: "127.0.0.1", isLocal: true, localDirect: true });
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "203.0.113.1" }, none).isLocal, false);
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", realIp: "127.0.0.1" }, none).isLocal, false);
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", forwardedHost: "x" }, none).isLocal, false);
  const lo = ["127.0.0.1", "10.0.0.2"];
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "127.0.0.1" }, lo).isLocal, true);
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "127.0.0.1, 203.0.113.7" }, lo).isLocal, false);
  // Unparsable forwarding from a trusted proxy: the client is unknown, so remote.
  assert.equal(classifyPeer({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "junk" }, lo).isLocal, false);
  assert.equal(resolveClientIp({ remoteAddress: "127.0.0.1", forwardedFor: "127.0.0.1, 203.0.113.7" }, lo), "203.0.113.7");
  // Trusted hops on the right are skipped.
  assert.equal(resolveClientIp({ remoteAddress: "127.0.0.1", forwardedFor: "1.2.3.4, 203.0.113.7, 10.0.0.2" }, lo), "203.0.113.7");
  // All hops trusted: the left-most is where the request entered.
  assert.equal(resolveClientIp({ remoteAddress: "127.0.0.1", forwardedFor: "10.0.0.2, 127.0.0.1" }, lo), "10.0.0.2");
  // A junk hop right of the client stops the walk (falls back to the peer, classified remote above).
  assert.equal(resolveClientIp({ remoteAddress: "127.0.0.1", forwardedFor: "203.0.113.7, junk" }, lo), "127.0.0.1");
});
