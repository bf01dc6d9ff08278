import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import {
  DEVICE_SIGNATURE_SKEW_MS,
  buildDeviceAuthPayload,
  checkDeviceIdentity,
  decodeBase64Flexible,
  deriveDeviceId,
  normalizeDevicePublicKey,
  verifyDeviceSignature,
} from "../../src/main/auth/device-identity.js";
import type { DeviceAuthParams, DeviceCheckContext } from "../../src/main/auth/device-identity.js";
import { canonicalIp, isLocalDirect, isLoopbackAddress, resolveClientIp } from "../../src/main/auth/client-ip.js";
import { createDevice } from "../helpers/device.js";

interface TestDevice {
  privateKey: KeyObject;
  publicKeyPem: string;
  publicKeyB64Url: string;
  deviceId: string;
}

function makeDevice(): TestDevice {
  const d = createDevice();
  return { privateKey: d.privateKey, publicKeyPem: d.publicKeyPem, publicKeyB64Url: d.publicKey, deviceId: d.id };
}

const NOW = 1_800_000_000_000;
const NONCE = "6f0c8a1e-2b7d-4c59-9f3e-1a2b3c4d5e6f";

function ctx(over: Partial<DeviceCheckContext> = {}): DeviceCheckContext {
  return {
    clientId: "cli",
    clientMode: "cli",
    role: "operator",
    scopes: ["operator.admin", "operator.approvals", "operator.pairing"],
    token: "shared-token",
    challengeNonce: NONCE,
    isLocal: false,
    nowMs: NOW,
    ...over,
  };
}

/** Builds the `device` params a well-behaved client would send for `c`. */
function signedDevice(dev: TestDevice, c: DeviceCheckContext, opts: { nonce?: string; signedAt?: number; b64?: "url" | "std"; pem?: boolean } = {}): DeviceAuthParams {
  const signedAt = opts.signedAt ?? NOW;
  const payload = buildDeviceAuthPayload({
    deviceId: dev.deviceId,
    clientId: c.clientId,
    clientMode: c.clientMode,
    role: c.role,
    scopes: c.scopes,
    signedAtMs: signedAt,
    token: c.token,
    nonce: opts.nonce,
  });
  const sig = sign(null, Buffer.from(payload, "utf8"), dev.privateKey);
  const params: DeviceAuthParams = {
    id: dev.deviceId,
    publicKey: opts.pem === true ? dev.publicKeyPem : dev.publicKeyB64Url,
    signature: opts.b64 === "std" ? sig.toString("base64") : sig.toString("base64url"),
    signedAt,
  };
  if (opts.nonce !== undefined) params.nonce = opts.nonce;
  return params;
}

test("payload strings are built exactly (v2 with nonce, v1 without, token defaults to empty)", () => {
  const base = { deviceId: "d", clientId: "cli", clientMode: "cli", role: "operator", scopes: ["a", "b"], signedAtMs: 42 };
  assert.equal(buildDeviceAuthPayload({ ...base, token: "t", nonce: "n" }), "v2|d|cli|cli|operator|a,b|42|t|n");
  assert.equal(buildDeviceAuthPayload({ ...base, token: "t" }), "v1|d|cli|cli|operator|a,b|42|t");
  assert.equal(buildDeviceAuthPayload({ ...base, scopes: [], token: null, nonce: "n" }), "v2|d|cli|cli|operator||42||n");
  assert.equal(buildDeviceAuthPayload({ ...base, scopes: [] }), "v1|d|cli|cli|operator||42|");
});

test("public key normalisation: base64url, base64, PEM SPKI; device id is sha256 of the raw key", () => {
  const dev = makeDevice();
  const raw = Buffer.from(dev.publicKeyB64Url, "base64url");
  for (const form of [dev.publicKeyB64Url, raw.toString("base64"), dev.publicKeyPem]) {
    const k = normalizeDevicePublicKey(form);
    assert.ok(k !== undefined, `accepts ${form.slice(0, 20)}`);
    assert.equal(k.base64Url, dev.publicKeyB64Url);
    assert.deepEqual(k.raw, raw);
    assert.equal(deriveDeviceId(form), dev.deviceId);
  }
  assert.match(dev.deviceId, /^[0-9a-f]{64}$/);
});

test("public key normalisation rejects wrong lengths, other key types and garbage without throwing", () => {
  const rsaPem = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "pem", type: "spki" }).toString();
  const x25519Pem = generateKeyPairSync("x25519").publicKey.export({ format: "pem", type: "spki" }).toString();
  const bad: unknown[] = [
    undefined, null, 42, {}, [], "", "   ", "!!!!", "a", Buffer.alloc(31).toString("base64url"), Buffer.alloc(33).toString("base64url"),
    rsaPem, x25519Pem, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "-----BEGIN garbage", "A".repeat(100_000),
    "AAAA=AAA", "ab$cd",
  ];
  for (const v of bad) {
    assert.equal(normalizeDevicePublicKey(v), undefined, `rejects ${String(v).slice(0, 30)}`);
    assert.equal(deriveDeviceId(v), undefined);
  }
});

test("decodeBase64Flexible accepts both alphabets with optional padding and rejects junk", () => {
  const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
  for (const s of [bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("base64").replace(/=+$/, "")]) {
    assert.deepEqual(decodeBase64Flexible(s), bytes);
  }
  for (const s of ["", "a", "abcde", "ab cd", "abc=d", "a===", 12]) assert.equal(decodeBase64Flexible(s), undefined);
});

test("v2 signature with the challenge nonce is accepted from a remote peer", () => {
  const dev = makeDevice();
  const c = ctx();
  const r = checkDeviceIdentity(signedDevice(dev, c, { nonce: NONCE }), c);
  assert.deepEqual(r, { ok: true, deviceId: dev.deviceId, publicKey: dev.publicKeyB64Url, payloadVersion: "v2" });
});

test("v1 signature (no nonce) is accepted from a local peer only", () => {
  const dev = makeDevice();
  const local = ctx({ isLocal: true });
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, local), local), {
    ok: true,
    deviceId: dev.deviceId,
    publicKey: dev.publicKeyB64Url,
    payloadVersion: "v1",
  });
  const remote = ctx({ isLocal: false });
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, remote), remote), { ok: false, message: "device nonce required" });
});

test("PEM public key and standard-base64 signature are accepted; the stored key is normalised base64url", () => {
  const dev = makeDevice();
  const c = ctx();
  const r = checkDeviceIdentity(signedDevice(dev, c, { nonce: NONCE, pem: true, b64: "std" }), c);
  assert.equal(r.ok, true);
  assert.equal(r.ok && r.publicKey, dev.publicKeyB64Url);
});

test("the signature covers the scopes AS SENT: [] signed, defaulted scopes would not verify", () => {
  const dev = makeDevice();
  const sent = ctx({ scopes: [] });
  const device = signedDevice(dev, sent, { nonce: NONCE });
  assert.equal(checkDeviceIdentity(device, sent).ok, true);
  assert.deepEqual(checkDeviceIdentity(device, ctx({ scopes: ["operator.admin"] })), { ok: false, message: "device signature invalid" });
});

test("any change to a signed field invalidates the signature", () => {
  const dev = makeDevice();
  const c = ctx();
  const device = signedDevice(dev, c, { nonce: NONCE });
  const variants: Partial<DeviceCheckContext>[] = [
    { clientId: "other" },
    { clientMode: "ui" },
    { role: "node" },
    { scopes: ["operator.admin"] },
    { token: "other-token" },
    { token: undefined },
  ];
  for (const v of variants) {
    assert.deepEqual(checkDeviceIdentity(device, ctx(v)), { ok: false, message: "device signature invalid" }, JSON.stringify(v));
  }
  const other = makeDevice();
  const forged = { ...device, signature: signedDevice(other, c, { nonce: NONCE }).signature };
  assert.deepEqual(checkDeviceIdentity(forged, c), { ok: false, message: "device signature invalid" });
  const v1ForV2 = { ...device, signature: signedDevice(dev, c).signature };
  assert.deepEqual(checkDeviceIdentity(v1ForV2, c), { ok: false, message: "device signature invalid" });
});

test("expired: |now − signedAt| > 600000 in either direction; the boundary is accepted", () => {
  const dev = makeDevice();
  const c = ctx();
  for (const signedAt of [NOW - DEVICE_SIGNATURE_SKEW_MS - 1, NOW + DEVICE_SIGNATURE_SKEW_MS + 1]) {
    assert.deepEqual(checkDeviceIdentity(signedDevice(dev, c, { nonce: NONCE, signedAt }), c), { ok: false, message: "device signature expired" });
  }
  for (const signedAt of [NOW - DEVICE_SIGNATURE_SKEW_MS, NOW + DEVICE_SIGNATURE_SKEW_MS]) {
    assert.equal(checkDeviceIdentity(signedDevice(dev, c, { nonce: NONCE, signedAt }), c).ok, true);
  }
});

test("nonce mismatch, blank nonce from a remote peer, and a nonce when no challenge was sent", () => {
  const dev = makeDevice();
  const c = ctx();
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, c, { nonce: "other-nonce" }), c), { ok: false, message: "device nonce mismatch" });
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, c, { nonce: "   " }), c), { ok: false, message: "device nonce required" });
  const local = ctx({ isLocal: true });
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, local, { nonce: "other-nonce" }), local), { ok: false, message: "device nonce mismatch" });
  const noChallenge = ctx({ challengeNonce: undefined });
  assert.deepEqual(checkDeviceIdentity(signedDevice(dev, noChallenge, { nonce: NONCE }), noChallenge), { ok: false, message: "device nonce mismatch" });
});

test("identity mismatch: wrong id, uppercase id, or a key that cannot be normalised", () => {
  const dev = makeDevice();
  const other = makeDevice();
  const c = ctx();
  const good = signedDevice(dev, c, { nonce: NONCE });
  assert.deepEqual(checkDeviceIdentity({ ...good, id: other.deviceId }, c), { ok: false, message: "device identity mismatch" });
  assert.deepEqual(checkDeviceIdentity({ ...good, id: dev.deviceId.toUpperCase() }, c), { ok: false, message: "device identity mismatch" });
  assert.deepEqual(checkDeviceIdentity({ ...good, publicKey: other.publicKeyB64Url }, c), { ok: false, message: "device identity mismatch" });
  assert.deepEqual(checkDeviceIdentity({ ...good, publicKey: "garbage" }, c), { ok: false, message: "device identity mismatch" });
});

test("checks run in order: each failure masks every later one", () => {
  const dev = makeDevice();
  const other = makeDevice();
  const c = ctx();
  const stale = NOW - 10 * DEVICE_SIGNATURE_SKEW_MS;
  const badSig = "A".repeat(86);
  // 1 beats 2..5: wrong id, expired, no nonce, bad signature
  assert.deepEqual(checkDeviceIdentity({ id: other.deviceId, publicKey: dev.publicKeyB64Url, signature: badSig, signedAt: stale }, c), {
    ok: false,
    message: "device identity mismatch",
  });
  // 2 beats 3..5
  assert.deepEqual(checkDeviceIdentity({ id: dev.deviceId, publicKey: dev.publicKeyB64Url, signature: badSig, signedAt: stale }, c), {
    ok: false,
    message: "device signature expired",
  });
  // 3 beats 5
  assert.deepEqual(checkDeviceIdentity({ id: dev.deviceId, publicKey: dev.publicKeyB64Url, signature: badSig, signedAt: NOW }, c), {
    ok: false,
    message: "device nonce required",
  });
  // 4 beats 5
  assert.deepEqual(checkDeviceIdentity({ id: dev.deviceId, publicKey: dev.publicKeyB64Url, signature: badSig, signedAt: NOW, nonce: "x" }, c), {
    ok: false,
    message: "device nonce mismatch",
  });
  // 5
  assert.deepEqual(checkDeviceIdentity({ id: dev.deviceId, publicKey: dev.publicKeyB64Url, signature: badSig, signedAt: NOW, nonce: NONCE }, c), {
    ok: false,
    message: "device signature invalid",
  });
});

test("hostile inputs never throw and never pass", () => {
  const dev = makeDevice();
  const c = ctx();
  const good = signedDevice(dev, c, { nonce: NONCE });
  const junk: unknown[] = [undefined, null, 0, NaN, Infinity, "", "!!", "A".repeat(10_000), {}, [], Buffer.alloc(64), { toString: () => "x" }];
  for (const v of junk) {
    for (const field of ["id", "publicKey", "signature", "signedAt", "nonce"] as const) {
      const r = checkDeviceIdentity({ ...good, [field]: v }, c);
      assert.equal(r.ok, false, `${field}=${String(v).slice(0, 20)}`);
    }
  }
  // A 32-byte key that is not a valid curve point: derivation works, verification fails cleanly.
  const notAPoint = Buffer.alloc(32, 0xff);
  const id = createHash("sha256").update(notAPoint).digest("hex");
  assert.deepEqual(
    checkDeviceIdentity({ id, publicKey: notAPoint.toString("base64url"), signature: good.signature, signedAt: NOW, nonce: NONCE }, c),
    { ok: false, message: "device signature invalid" },
  );
  const key = normalizeDevicePublicKey(dev.publicKeyB64Url);
  assert.ok(key !== undefined);
  for (const s of [undefined, "", "AA", Buffer.alloc(63).toString("base64url"), Buffer.alloc(65).toString("base64url"), "%%%%"]) {
    assert.equal(verifyDeviceSignature(key, "payload", s), false);
  }
});

test("isLoopbackAddress covers 127/8, ::1 and IPv4-mapped forms in any spelling", () => {
  for (const ip of ["127.0.0.1", "127.255.3.4", "::1", "::ffff:127.0.0.1", "0000:0000:0000:0000:0000:0000:0000:0001", "0000:0000:0000:0000:0000:ffff:7f00:0001", "[::1]", " 127.0.0.1 "]) {
    assert.equal(isLoopbackAddress(ip), true, ip);
  }
  for (const ip of ["128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", "", "127.0.0", "fe80::1", undefined, 5]) {
    assert.equal(isLoopbackAddress(ip), false, String(ip));
  }
  assert.equal(canonicalIp("0000:0000:0000:0000:0000:ffff:0a00:0001"), "10.0.0.1");
  assert.equal(canonicalIp("FE80::1%eth0"), "fe80::1");
});

test("resolveClientIp trusts forwarding headers only from a trusted proxy", () => {
  const trusted = ["10.0.0.5"];
  assert.equal(resolveClientIp({ remoteAddress: "203.0.113.9", forwardedFor: "127.0.0.1" }, trusted), "203.0.113.9");
  // The right-most entry that is not a trusted proxy (the left ones are client-written).
  assert.equal(resolveClientIp({ remoteAddress: "10.0.0.5", forwardedFor: " 198.51.100.7 , 10.0.0.9" }, trusted), "10.0.0.9");
  assert.equal(resolveClientIp({ remoteAddress: "10.0.0.5", realIp: "198.51.100.8" }, trusted), "198.51.100.8");
  assert.equal(resolveClientIp({ remoteAddress: "10.0.0.5", forwardedFor: "", realIp: "198.51.100.8" }, trusted), "198.51.100.8");
  assert.equal(resolveClientIp({ remoteAddress: "10.0.0.5", forwardedFor: "junk" }, trusted), "10.0.0.5");
  assert.equal(resolveClientIp({ remoteAddress: "0000:0000:0000:0000:0000:ffff:0a00:0005", forwardedFor: "198.51.100.7" }, trusted), "198.51.100.7");
  assert.equal(resolveClientIp({ remoteAddress: "10.0.0.5", forwardedFor: "198.51.100.7" }, []), "10.0.0.5");
  assert.equal(resolveClientIp({ remoteAddress: undefined }, trusted), undefined);
});

test("isLocalDirect (§2.6 step 1)", () => {
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "127.0.0.1:18789" }, []), true);
  assert.equal(isLocalDirect({ remoteAddress: "::1", host: "[::1]:18789" }, []), true);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "LOCALHOST" }, []), true);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "gw.tail1234.ts.net" }, []), true);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "example.com" }, []), false);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: undefined }, []), false);
  assert.equal(isLocalDirect({ remoteAddress: "192.168.1.2", host: "localhost" }, []), false);
  // forwarding headers from an untrusted loopback peer (a local reverse proxy) → not direct
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "203.0.113.1" }, []), false);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "localhost", forwardedHost: "x" }, []), false);
  // a trusted loopback proxy forwarding a loopback client counts as local
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "127.0.0.1" }, ["127.0.0.1"]), true);
  assert.equal(isLocalDirect({ remoteAddress: "127.0.0.1", host: "localhost", forwardedFor: "203.0.113.1" }, ["127.0.0.1"]), false);
});
