/**
 * gateway.tls: wss:// only (a plain ws:// connect fails), a self-signed pair generated
 * under the state dir (0600) whose fingerprint is reported, the CLI pinning it, and
 * exit 78 instead of plaintext when the configured certificate cannot be used.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { buildConnectParams } from "../helpers/client.js";
import { localGatewayEnv, runCli, LOCAL_TOKEN } from "../helpers/cli.js";
import { callGateway } from "../../src/cli/gateway-client.js";
import { resolveRpcTarget } from "../../src/cli/rpc-target.js";
import { defaultTlsPaths } from "../../src/main/server/tls.js";

interface Outcome {
  fingerprint?: string;
  hello?: { type?: string };
  error?: string;
}

/** Opens `url`, completes the protocol handshake, returns the peer certificate's fingerprint and hello-ok. */
function handshake(url: string, opts: WebSocket.ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000, ...opts });
    const out: Outcome = {};
    const done = (): void => {
      ws.removeAllListeners();
      ws.on("error", () => undefined);
      ws.terminate();
      resolve(out);
    };
    ws.on("upgrade", (res) => {
      out.fingerprint = (res.socket as TLSSocket).getPeerCertificate?.().fingerprint256;
    });
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString());
      if (f.event === "connect.challenge") ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: buildConnectParams(f.payload.nonce) }));
      else if (f.id === "c") {
        out.hello = f.payload;
        if (!f.ok) out.error = JSON.stringify(f.error);
        done();
      }
    });
    ws.on("error", (err) => {
      out.error = err.message;
      done();
    });
    ws.on("close", (code) => {
      out.error ??= `closed ${code}`;
      done();
    });
  });
}

test("TLS enabled: wss:// with the generated self-signed certificate completes the handshake; plain ws:// fails", async (t) => {
  const gw = await startTestGateway({ tls: { enabled: true, autoGenerate: true } });
  t.after(() => gw.close());
  const tls = gw.server.tls;
  assert.ok(tls, "server reports its certificate");
  assert.equal(tls.generated, true);
  const paths = defaultTlsPaths(gw.stateDir);
  const onDisk = new X509Certificate(readFileSync(paths.cert, "utf8"));
  assert.equal(tls.fingerprintSha256, onDisk.fingerprint256);
  assert.equal(statSync(paths.key).mode & 0o777, 0o600, "private key is 0600");
  assert.equal(statSync(paths.cert).mode & 0o777, 0o600);
  assert.equal(statSync(paths.dir).mode & 0o777, 0o700);

  const plain = await handshake(`ws://127.0.0.1:${gw.port}`);
  assert.equal(plain.hello, undefined, "no plaintext session");
  assert.ok(plain.error);

  const secure = await handshake(`wss://127.0.0.1:${gw.port}`, { rejectUnauthorized: false });
  assert.equal(secure.error, undefined);
  assert.equal(secure.hello?.type, "hello-ok");
  assert.equal(secure.fingerprint, tls.fingerprintSha256, "the client sees the advertised certificate");

  const verified = await handshake(`wss://127.0.0.1:${gw.port}`, { ca: readFileSync(paths.cert) });
  assert.equal(verified.hello?.type, "hello-ok", "the certificate verifies against itself for 127.0.0.1 (SAN)");
});

test("TLS enabled with an unreadable certificate exits 78 and never listens", async (t) => {
  const env = await localGatewayEnv(t, {});
  await env.writeConfig({
    gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, tls: { enabled: true, certPath: `${env.home}/missing-cert.pem`, keyPath: `${env.home}/missing-key.pem` } },
  });
  const r = await runCli(["gateway", "--port", "0"], env.env, 30_000);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /gateway\.tls: cannot read certificate .*missing-cert\.pem/);
  assert.doesNotMatch(r.stdout, /Gateway listening/);
});

test("the CLI client connects to a local TLS gateway over wss:// pinned to the certificate on disk, and refuses a wrong pin", async (t) => {
  const gw = await startTestGateway({ tls: { enabled: true, autoGenerate: true } });
  t.after(() => gw.close());
  const fp = gw.server.tls!.fingerprintSha256;
  const configPath = join(gw.stateDir, "clawdbot.json");
  const env = { HOME: gw.stateDir, CLAWDBOT_STATE_DIR: gw.stateDir, CLAWDBOT_CONFIG_PATH: configPath, CLAWDBOT_GATEWAY_PORT: String(gw.port) };
  await writeFile(configPath, JSON.stringify({ gateway: { mode: "local", auth: { token: TEST_TOKEN }, tls: { enabled: true } } }));
  const local = await resolveRpcTarget({}, env);
  assert.equal(local.url, `wss://127.0.0.1:${gw.port}`);
  assert.equal(local.tlsFingerprint, fp, "pinned to the certificate on disk");
  const health = (await callGateway("health", {}, { url: local.url, tlsFingerprint: local.tlsFingerprint, token: local.token, useDevice: false })) as { ok?: boolean };
  assert.equal(health.ok, true);

  // Remote mode with a wrong pin: refused on the TLS socket, before the WebSocket opens.
  const wrong = "AA:".repeat(31) + "AA";
  await writeFile(configPath, JSON.stringify({ gateway: { mode: "remote", remote: { url: `wss://127.0.0.1:${gw.port}`, token: TEST_TOKEN, tlsFingerprint: wrong } } }));
  const remote = await resolveRpcTarget({}, env);
  assert.equal(remote.tlsFingerprint, wrong);
  await assert.rejects(callGateway("health", {}, { url: remote.url, tlsFingerprint: remote.tlsFingerprint, token: remote.token, useDevice: false }), /fingerprint mismatch/);
  // The same pin written without colons, lower case, matches.
  const relaxed = fp.replace(/:/g, "").toLowerCase();
  const ok = (await callGateway("health", {}, { url: remote.url, tlsFingerprint: relaxed, token: TEST_TOKEN, useDevice: false })) as { ok?: boolean };
  assert.equal(ok.ok, true);
});
